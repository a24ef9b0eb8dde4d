// Public entry of the reliable store for the apps that compose others (quickstart, CLI): how to
// start it, and its tenant schema. Nothing else of this app is imported from outside it.
export { startReliableStore } from './reliable-store.app.js';
export { RELIABLE_SCHEMA } from './reliable.schema.js';
