// Public entry of the edge store for the apps that compose others (quickstart, CLI): how to
// start it, and its tenant schema per dialect. Nothing else of this app is imported from outside it.
export { startEdgeStore } from './edge-store.app.js';
export { edgeSchema } from './edge.schema.js';
