import 'reflect-metadata';
import { startGateway } from './gateway.app.js';

await startGateway(process.env);
