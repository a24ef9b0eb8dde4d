import 'reflect-metadata';
import { startTracing } from '#polystore/tracing';

// Tracing starts before the app is imported: the modules it instruments (http, fastify, pg,
// mysql2) are patched as they load. Without an OTLP endpoint it starts nothing.
await startTracing('secure-store', process.env);
const { startSecureStore } = await import('./secure-store.app.js');

await startSecureStore(process.env);
