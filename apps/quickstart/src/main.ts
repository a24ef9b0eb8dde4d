import 'reflect-metadata';
import { resolve } from 'node:path';
import { loadConfigOrExit } from '#polystore/runtime';
import { banner } from './banner.js';
import { quickstartConfigSchema } from './config.js';
import { ensureDemo } from './demo-tenant.js';
import { startQuickstart } from './quickstart.js';

// `npm start`: the whole system in this process, no server needed (see docs/quickstart.md).
const startedAt = performance.now();
const config = loadConfigOrExit(quickstartConfigSchema, process.env);
const say = (line: string): void => void process.stdout.write(`[quickstart] ${line}\n`);

say('starting: embedded PostgreSQL, secure, reliable and edge stores, gateway');
const running = await startQuickstart(config, process.env, say).catch((error: NodeJS.ErrnoException) => {
  const hint =
    error.code === 'EADDRINUSE'
      ? `; another program has that port: choose others with GATEWAY_PORT, ADMIN_PORT and EDGE_HTTP_PORT (now ${config.GATEWAY_PORT}, ${config.ADMIN_PORT} and ${config.EDGE_HTTP_PORT}; 0 picks a free one)`
      : '';
  process.stderr.write(`[quickstart] failed to start: ${error.message}${hint}\n`);
  process.exit(1);
});

let stopping = false;
const stop = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  say(`${signal}: stopping`);
  const timer = setTimeout(() => process.exit(1), 30_000);
  timer.unref();
  running.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGINT', () => stop('SIGINT'));
process.once('SIGTERM', () => stop('SIGTERM'));

const home = resolve(config.QUICKSTART_DIR);
const demo = config.QUICKSTART_DEMO
  ? await ensureDemo({
      home,
      gatewayPort: running.gatewayPort,
      adminPort: running.adminPort,
      baseDomain: config.BASE_DOMAIN,
    }).catch((error: Error) => {
      process.stderr.write(`[quickstart] demo tenant: ${error.message}\n`);
      return undefined;
    })
  : undefined;

process.stdout.write(
  banner({
    gatewayUrl: `http://${config.BASE_DOMAIN}:${running.gatewayPort}`,
    adminUrl: `http://${config.BASE_DOMAIN}:${running.adminPort}`,
    ingestUrl: `http://${config.BASE_DOMAIN}:${running.ingestPort}/ingest`,
    postgresUrl: running.postgres.url('polystore_system'),
    home,
    baseDomain: config.BASE_DOMAIN,
    gatewayPort: running.gatewayPort,
    startedInMs: performance.now() - startedAt,
    demo,
  }),
);
say('ready');
