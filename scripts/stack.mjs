// `npm run stack`: runs the gateway and every store as separate processes on the configured
// servers (and, unless NATS_URL is set, on the project's authenticated bus: scripts/bus.sh), with
// their log lines prefixed. Ctrl-C or SIGTERM stops them all (SIGTERM first, so
// each drains its in-flight work; SIGKILL after 20 s).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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

/**
 * Set when the stack created its own database logins (`polystore db-roles`): each app's URL
 * variables, by app name (the gateway's catalog and server URLs, each store's own catalog login).
 */
let databaseEnv = {};

/** An app's environment: on the authenticated bus, with only its own credentials. */
function envOf(name) {
  const env = { ...process.env, ...databaseEnv[name] };
  if (!busUrl) return env;
  return { ...env, NATS_URL: busUrl, NATS_NKEY_SEED_FILE: `${root}.polystore/bus/creds/${name}.nk` };
}

const DATABASE_URL_VARS = ['SYSTEM_DB_URL', 'SECURE_SERVER_URL', 'RELIABLE_SERVER_URL', 'EDGE_SERVER_URL'];

/**
 * On the local servers (no database URL given), the apps run without a superuser: `polystore
 * db-roles` creates a provisioning login, a catalog login and the stores' own catalog logins
 * (administrative URLs: DB_ADMIN_URLS, default the local root logins), with a password kept in
 * .polystore/db/ (mode 0600); the apps get their URLs as files (`*_FILE`), so the password is in
 * no environment.
 */
function useDatabaseLogins() {
  if (DATABASE_URL_VARS.some((v) => process.env[v] !== undefined || process.env[`${v}_FILE`] !== undefined)) return;
  const cli = `${root}dist/apps/cli/src/main.js`;
  if (!existsSync(cli)) return;
  const dir = `${root}.polystore/db`;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const passwordFile = `${dir}/provisioner.password`;
  if (!existsSync(passwordFile))
    writeFileSync(passwordFile, `${randomBytes(24).toString('base64url')}\n`, { mode: 0o600 });
  const result = spawnSync(
    process.execPath,
    [
      cli,
      'db-roles',
      '--provisioner-password-file',
      passwordFile,
      '--catalog-database',
      'polystore_system',
      '--catalog-password-file',
      passwordFile,
    ],
    {
      cwd: root,
      env: {
        ...process.env,
        DB_ADMIN_URLS: process.env.DB_ADMIN_URLS ?? 'postgres://root@127.0.0.1:5432,mysql://root@127.0.0.1:3306',
      },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  if (result.status !== 0) {
    process.stdout.write(
      'stack: could not create the database logins (polystore db-roles); the apps use the default URLs\n',
    );
    return;
  }
  const printed = (label, scheme) =>
    result.stdout
      .split('\n')
      .find((line) => line.startsWith(`${label}: ${scheme}`))
      ?.slice(label.length + 2);
  const password = readFileSync(passwordFile, 'utf8').trim();
  const withPassword = (url) => {
    const parsed = new URL(url);
    parsed.password = password;
    return parsed.toString();
  };
  /** `<login>@host` URLs db-roles printed with `label`, by the login's store (`ps_<store>_<suffix>`). */
  const byStore = (label, suffix) =>
    Object.fromEntries(
      result.stdout
        .split('\n')
        .map((line) => new RegExp(`^${label}: (postgres:\\S+)`).exec(line)?.[1])
        .filter(Boolean)
        .map((url) => [new RegExp(`^ps_(\\w+)_${suffix}$`).exec(new URL(url).username)?.[1], url])
        .filter(([store]) => store),
    );
  const runtime = byStore('runtime login', 'runtime');
  const provisioning = printed('provisioning login', 'postgres:');
  const keep = (name, url, secret) => {
    const file = `${dir}/${name}`;
    writeFileSync(file, secret ? withPassword(url) : url, { mode: 0o600 });
    return file;
  };
  // The gateway owns the catalog and chooses new tenants' servers: the PostgreSQL stores' runtime
  // logins (db-roles' functions provision their schemas: no store holds a CREATEROLE login), the
  // reliable store's provisioning login on MariaDB. PROVISIONER_URLS lets the CLI move tenants.
  const gateway = {};
  const system = printed('catalog login', 'postgres:');
  if (system) gateway.SYSTEM_DB_URL_FILE = keep('system_db_url', system, true);
  for (const [variable, store] of [
    ['SECURE_SERVER_URL', 'secure'],
    ['EDGE_SERVER_URL', 'edge'],
  ]) {
    const url = runtime[store] ?? provisioning;
    if (url) gateway[`${variable}_FILE`] = keep(variable.toLowerCase(), url, !runtime[store]);
  }
  const reliable = printed('provisioning login', 'mysql:');
  if (reliable) gateway.RELIABLE_SERVER_URL_FILE = keep('reliable_server_url', reliable, true);
  const movers = [provisioning, reliable].filter(Boolean).map(withPassword).join(',');
  if (movers) gateway.PROVISIONER_URLS_FILE = keep('provisioner_urls', movers, false);
  databaseEnv = { gateway };
  // Each store reads the catalog as its own login; no password to keep: it derives from the store key.
  for (const [store, url] of Object.entries(byStore('store catalog login', 'catalog')))
    databaseEnv[`${store}-store`] = { SYSTEM_DB_URL_FILE: keep(`system_db_url.${store}`, url, false) };
  process.stdout.write(
    `stack: no superuser: the gateway logs in as polystore_catalog, each store reads the catalog as ps_<store>_catalog, new tenants' secure and edge schemas are made by the stores' runtime logins (no store holds the provisioning login), the reliable store's databases by polystore_provisioner (URLs in ${dir}/; for \`tenants move\`: PROVISIONER_URLS_FILE=${dir}/provisioner_urls)\n`,
  );
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
// `STACK_HA=1`: the reliable store on the project's 3-node Galera cluster (scripts/galera.sh,
// 3307-3309), unless RELIABLE_SERVER_URL says otherwise.
if (process.env.STACK_HA === '1') {
  const result = spawnSync(`${root}scripts/galera.sh`, ['start'], { stdio: 'inherit' });
  if (result.status !== 0) {
    process.stdout.write('stack: the Galera cluster did not start (see above); stopping\n');
    process.exit(1);
  }
  process.env.RELIABLE_SERVER_URL ??= spawnSync(`${root}scripts/galera.sh`, ['url']).stdout.toString().trim();
  process.stdout.write(`stack: the reliable store is on the Galera cluster ${process.env.RELIABLE_SERVER_URL}\n`);
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
useDatabaseLogins();
// Stores first, so the gateway's first readiness check finds them.
for (const app of APPS) start(app);
const port = process.env.GATEWAY_PORT ?? '3000';
const adminPort = process.env.ADMIN_PORT ?? '3001';
const domain = process.env.BASE_DOMAIN ?? 'localhost';
process.stdout.write(
  `stack: gateway on http://${domain}:${port} (tenants on <slug>.${domain}); its admin port on http://${domain}:${adminPort}, ` +
    `${process.env.ADMIN_HOST ?? '127.0.0.1'} only (admin API on Host ${domain}, OpenAPI: /docs, /metrics, /health/ready); Ctrl-C stops everything\n`,
);
