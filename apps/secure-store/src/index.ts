// Public entry of the secure store for the apps that compose others (quickstart, CLI): how to
// start it, and its tenant schema. Nothing else of this app is imported from outside it.
export { startSecureStore } from './secure-store.app.js';
export { SECURE_SCHEMA } from './secure.schema.js';
