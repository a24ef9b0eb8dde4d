import 'reflect-metadata';
import { startReliableStore } from './reliable-store.app.js';

await startReliableStore(process.env);
