import 'reflect-metadata';
import { startSecureStore } from './secure-store.app.js';

await startSecureStore(process.env);
