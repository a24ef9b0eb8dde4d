import 'reflect-metadata';
import { startEdgeStore } from './edge-store.app.js';

await startEdgeStore(process.env);
