// `npm run stack`: runs the gateway and every store as separate processes on the configured
// servers (and, unless NATS_URL is set, on the project's authenticated bus: scripts/bus.sh), with
// their log lines prefixed. Ctrl-C or SIGTERM stops them all (SIGTERM first, so
// each drains its in-flight work; SIGKILL after 20 s).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const APPS = [
  { name: 'secure-store', color: 35 },
  { name: 'reliable-store', color: 33 },
  { name: 'edge-store', color: 36 },
  { name: 'gateway', color: 32 },
];

const children = new Map();
let stopping = false;

function prefix(name, color) {
  return process.stdout.isTTY ? `\x1b[${color}m[${name.padEnd(14)}]\x1b[0m` : `[${name}]`;
}

/** Set when the stack runs on its own authenticated bus (scripts/bus.sh): its URL. */
let busUrl;

/** An app's environment: on the authenticated bus, with only its own credentials. */
function envOf(name) {
  if (!busUrl) return process.env;
  return { ...process.env, NATS_URL: busUrl, NATS_NKEY_SEED_FILE: `${root}.polystore/bus/creds/${name}.nk` };
}

function start({ name, color }) {
  const entry = `${root}dist/apps/${name}/src/main.js`;
  if (!existsSync(entry)) return;
  const child = spawn(process.execPath, [entry], { cwd: root, env: envOf(name), stdio: ['ignore', 'pipe', 'pipe'] });
  children.set(name, child);
  const tag = prefix(name, color);
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => process.stdout.write(`${tag} ${line}\n`));
  }
  child.on('exit', (code, signal) => {
    children.delete(name);
    process.stdout.write(`${tag} exited (${signal ?? `code ${code}`})\n`);
    if (!stopping && children.size === 0) process.exit(code ?? 1);
  });
}

function stopAll(signal) {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`\nstack: ${signal} received, stopping ${children.size} process(es)...\n`);
  for (const child of children.values()) child.kill('SIGTERM');
  const killer = setTimeout(() => {
    for (const child of children.values()) child.kill('SIGKILL');
  }, 20_000);
  killer.unref();
  const wait = setInterval(() => {
    if (children.size === 0) {
      clearInterval(wait);
      process.exit(0);
    }
  }, 50);
}

process.on('SIGINT', () => stopAll('SIGINT'));
process.on('SIGTERM', () => stopAll('SIGTERM'));

if (existsSync(`${root}scripts/nats.sh`)) {
  const result = spawnSync(`${root}scripts/nats.sh`, ['start'], { stdio: 'inherit' });
  if (result.status !== 0)
    process.stdout.write('stack: the device broker (nats-server) did not start; MQTT ingest will be unavailable\n');
}
// Without a NATS_URL of the caller's, the apps talk over the project's authenticated bus: a user
// per service, each allowed only its own subjects (libs/messaging/src/bus-auth.ts).
if (process.env.NATS_URL === undefined && existsSync(`${root}scripts/bus.sh`)) {
  const result = spawnSync(`${root}scripts/bus.sh`, ['start'], { stdio: 'inherit' });
  if (result.status === 0) {
    busUrl = `nats://127.0.0.1:${process.env.BUS_PORT ?? '4225'}`;
    process.stdout.write(
      `stack: the bus is ${busUrl} (authenticated); for the CLI: NATS_URL=${busUrl} NATS_NKEY_SEED_FILE=.polystore/bus/creds/cli.nk\n`,
    );
  } else {
    process.stdout.write('stack: the authenticated bus did not start; stopping (set NATS_URL to use another NATS)\n');
    process.exit(1);
  }
}
// Stores first, so the gateway's first readiness check finds them.
for (const app of APPS) start(app);
const port = process.env.GATEWAY_PORT ?? '3000';
const domain = process.env.BASE_DOMAIN ?? 'localhost';
process.stdout.write(
  `stack: gateway on http://${domain}:${port} (OpenAPI: /docs, admin API on Host ${domain}, tenants on <slug>.${domain}); Ctrl-C stops everything\n`,
);
