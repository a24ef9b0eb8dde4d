// Public entry of the edge store for the apps that compose others (quickstart, CLI): its
// StoreApp (manifest, tenant schema per dialect, start function). Nothing else of this app is imported from outside it.
import { STORE_MANIFESTS } from '#polystore/catalog';
import type { StoreApp } from '#polystore/runtime';
import { startEdgeStore } from './edge-store.app.js';
import { edgeSchema } from './edge.schema.js';

/** The edge store as the composing apps see it. */
export const EDGE_STORE_APP: StoreApp = { manifest: STORE_MANIFESTS.edge, schema: edgeSchema, start: startEdgeStore };
