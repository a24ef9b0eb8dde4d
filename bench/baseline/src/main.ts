// The benchmark floor (see bench/README.md). Started by bench/run.mjs as its own process:
//   BASELINE_DB_URL=postgres://root@127.0.0.1:5432/<db> [BASELINE_DB_SCHEMA=<schema>] BASELINE_PORT=0 \
//     node dist/bench/baseline/src/main.js
// Logs one JSON line `{"msg":"ready","port":N}` once it listens; stops cleanly on SIGTERM/SIGINT.
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { BaselineModule } from './baseline.module.js';

const databaseUrl = process.env['BASELINE_DB_URL'];
if (!databaseUrl) {
  process.stderr.write('BASELINE_DB_URL is required (postgres://user@host:port/database)\n');
  process.exit(1);
}
const port = Number(process.env['BASELINE_PORT'] ?? 0);
const poolSize = Number(process.env['BASELINE_POOL_SIZE'] ?? 10);
const schema = process.env['BASELINE_DB_SCHEMA'] || undefined;

const app = await NestFactory.create<NestFastifyApplication>(
  BaselineModule.forRoot({
    databaseUrl,
    ...(schema ? { schema } : {}),
    poolSize,
    applicationName: `polystore-bench-baseline:${process.pid}`,
  }),
  new FastifyAdapter(),
  { logger: ['error', 'warn'] },
);
app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
await app.listen(port, '127.0.0.1');
const address = app.getHttpServer().address();
const bound = typeof address === 'object' && address ? address.port : port;
process.stdout.write(
  `${JSON.stringify({ level: 'info', service: 'bench-baseline', pid: process.pid, port: bound, msg: 'ready' })}\n`,
);
