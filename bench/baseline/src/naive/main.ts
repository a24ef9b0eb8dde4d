// The naive request-scoped baseline (see bench/README.md). Started by bench/run.mjs as its own process:
//   NAIVE_SERVER_URL=postgres://root@127.0.0.1:5432 NAIVE_TENANTS_FILE=<json> NAIVE_POOL_SIZE=1 NAIVE_PORT=0 \
//     node dist/bench/baseline/src/naive/main.js
// NAIVE_TENANTS_FILE holds `{ "<slug>": { "database": "...", "schema": "..." } }`. Logs one JSON
// line `{"msg":"ready","port":N}` once it listens; stops cleanly on SIGTERM/SIGINT.
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { NaiveModule } from './naive.module.js';
import type { NaiveTenantPlacement } from './tenant-data-sources.js';

const serverUrl = process.env['NAIVE_SERVER_URL'];
const tenantsFile = process.env['NAIVE_TENANTS_FILE'];
if (!serverUrl || !tenantsFile) {
  process.stderr.write('NAIVE_SERVER_URL (postgres://user@host:port) and NAIVE_TENANTS_FILE are required\n');
  process.exit(1);
}
const tenants = new Map(
  Object.entries(JSON.parse(readFileSync(tenantsFile, 'utf8')) as Record<string, NaiveTenantPlacement>),
);
const port = Number(process.env['NAIVE_PORT'] ?? 0);
const poolSize = Number(process.env['NAIVE_POOL_SIZE'] ?? 1);

const app = await NestFactory.create<NestFastifyApplication>(
  NaiveModule.forRoot({ serverUrl, tenants, poolSize, applicationName: `polystore-bench-naive:${process.pid}` }),
  new FastifyAdapter(),
  { logger: ['error', 'warn'] },
);
app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
await app.listen(port, '127.0.0.1');
const address = app.getHttpServer().address();
const bound = typeof address === 'object' && address ? address.port : port;
process.stdout.write(
  `${JSON.stringify({ level: 'info', service: 'bench-naive', pid: process.pid, port: bound, tenants: tenants.size, msg: 'ready' })}\n`,
);
