#!/usr/bin/env node
// Startup to ready of `npm start` (the zero-server quickstart), against the same apps started as
// the distributed stack on real servers, side by side, BENCH_QUICKSTART_ROUNDS rounds (default 3)
// interleaved:
//   quickstart, first start: a new folder; the embedded PostgreSQL initialises its template,
//     the catalog is created and migrated, the demo tenant gets its three databases (migrated)
//     and a device registered through the saga; time from spawn to `[quickstart] ready`.
//   quickstart, restart: the same folder again (data kept); spawn to `[quickstart] ready`.
//   stack, first start (baseline): secure, reliable and edge stores and the gateway as four
//     processes (as `npm run stack`) on the local PostgreSQL, MariaDB and NATS, a new catalog,
//     all four ready, then the same demo tenant and device through the same HTTP API.
//   stack, restart (baseline): the four processes again on that catalog, all four ready.
// Also `npm start` once (the build included) on an existing folder (skipped with
// BENCH_QUICKSTART_NPM_START=0, and when BENCH_APPS_ROOT names a snapshot: `npm start` rebuilds
// the repository's dist/), and the memory (RSS) of each after start. The target is startup to
// ready under 15 s on this machine.
// Writes bench/results/<stamp>-quickstart.{json,md} and latest-quickstart.md; deletes what it
// created: the quickstart folders, and for the stack each round's catalog
// (polystore_qsb_<run>_<round>) with every placement it lists (the demo tenant's schemas in
// polystore_secure and polystore_edge, its database on MariaDB).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { APPS_ROOT, ROOT } from './lib/config.mjs';
import { expectStatus } from './lib/http.mjs';
import { dropBenchLeftovers } from './lib/leftovers.mjs';
import { machineInfo } from './lib/machine.mjs';
import { databaseUrl } from './lib/pg.mjs';
import { killAll, startApp, stopAll } from './lib/processes.mjs';
import { fileStamp } from './lib/report.mjs';

const QUICKSTART_SCRIPT = 'dist/apps/quickstart/src/main.js';
const ROUNDS = Number(process.env.BENCH_QUICKSTART_ROUNDS ?? 3);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error('BENCH_QUICKSTART_ROUNDS must be a positive integer');
/** `npm start` builds the repository's dist/: not with a snapshot of the apps, nor when turned off. */
const NPM_START =
  APPS_ROOT === ROOT &&
  !['0', 'false', 'no', 'off'].includes((process.env.BENCH_QUICKSTART_NPM_START ?? '').toLowerCase());
const runId = randomBytes(3)
  .toString('hex')
  .replace(/^[0-9]/, 't');
const pgServerUrl = process.env.BENCH_PG_URL ?? 'postgres://root@127.0.0.1:5432';
const mariadbUrl = process.env.BENCH_MARIADB_URL ?? 'mysql://root@127.0.0.1:3306';
const natsUrl = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const adminToken = randomBytes(24).toString('base64url');
const work = mkdtempSync(join(tmpdir(), 'ps-bench-quickstart-'));
const log = (message) => console.log(message);

/** Resident memory of `pid` in MB (Linux), or null. */
function rssMb(pid) {
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Math.round(Number(kb) / 1024) : null;
  } catch {
    return null;
  }
}

/** Spawns `command` and resolves once `[quickstart] ready` is printed: {ms, child, rssMb}. */
async function startQuickstart(label, dir, command = [process.execPath, join(APPS_ROOT, QUICKSTART_SCRIPT)]) {
  const logPath = join(work, `${label}.log`);
  const fd = openSync(logPath, 'w');
  const started = performance.now();
  const child = spawn(command[0], command.slice(1), {
    cwd: APPS_ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      QUICKSTART_DIR: dir,
      GATEWAY_PORT: '0',
      ADMIN_PORT: '0',
      EDGE_HTTP_PORT: '0',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', fd, fd],
    detached: true,
  });
  closeSync(fd);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  for (;;) {
    const text = readFileSync(logPath, 'utf8');
    if (text.includes('[quickstart] ready')) break;
    if (child.exitCode !== null) throw new Error(`${label} exited before ready:\n${text.slice(-3000)}`);
    if (performance.now() - started > 180_000) throw new Error(`${label} not ready after 180 s`);
    await sleep(20);
  }
  const ms = performance.now() - started;
  // `npm start` runs node under npm: the quickstart is the newest node process of the group.
  const stop = async () => {
    process.kill(-child.pid, 'SIGTERM');
    await exited;
  };
  return { ms, rss: rssMb(quickstartPid(child.pid)), stop };
}

/** The pid of the quickstart node process in the process group of `leader` (npm or node itself). */
function quickstartPid(leader) {
  try {
    const children = readFileSync(`/proc/${leader}/task/${leader}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean);
    return children.length > 0 ? quickstartPid(Number(children.at(-1))) : leader;
  } catch {
    return leader;
  }
}

function stackEnv(catalog) {
  return {
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    SYSTEM_DB_URL: databaseUrl(pgServerUrl, catalog),
    SECURE_SERVER_URL: pgServerUrl,
    EDGE_SERVER_URL: pgServerUrl,
    RELIABLE_SERVER_URL: mariadbUrl,
    NATS_URL: natsUrl,
    NATS_SUBJECT_PREFIX: `qsb${runId}`,
    MASTER_KEY: randomBytesKey,
    ADMIN_TOKEN: adminToken,
    DEVICE_BROKER: 'off',
    // Unused with the broker off, but the edge store asks for it in production all the same.
    DEVICE_BROKER_KEY: randomBytes(32).toString('base64'),
    SECURE_HTTP_PORT: '0',
    RELIABLE_HTTP_PORT: '0',
    EDGE_HTTP_PORT: '0',
    GATEWAY_PORT: '0',
    ADMIN_PORT: '0',
    JOBS: '',
    TENANT_DELETION_GRACE_MS: '0',
  };
}
const randomBytesKey = randomBytes(32).toString('base64');

/** The four apps as separate processes, started together; resolves when all are ready. */
async function startStack(catalog) {
  const started = performance.now();
  const logDir = join(work, `stack-${catalog}`);
  mkdirSync(logDir, { recursive: true });
  const env = stackEnv(catalog);
  const apps = await Promise.all(
    ['secure-store', 'reliable-store', 'edge-store', 'gateway'].map((name) =>
      startApp({ name, script: `dist/apps/${name}/src/main.js`, env, logDir }),
    ),
  );
  const ms = performance.now() - started;
  const rss = apps.reduce((sum, app) => sum + (rssMb(app.pid) ?? 0), 0);
  return {
    ms,
    rss,
    gatewayPort: apps[3].port,
    adminPort: apps[3].adminPort,
    stop: () => Promise.all(apps.map((app) => app.stop())),
  };
}

/** The quickstart's demo on the stack: a tenant (admin API, on `adminPort`) and a device (tenant API, on `gatewayPort`). */
async function createDemo({ gatewayPort, adminPort }, slug) {
  const { apiKey } = await expectStatus(201, {
    port: adminPort,
    host: 'localhost',
    token: adminToken,
    method: 'POST',
    path: '/admin/tenants',
    body: { slug, name: 'Demo organization' },
    timeoutMs: 120_000,
  });
  await expectStatus(201, {
    port: gatewayPort,
    host: `${slug}.localhost`,
    token: apiKey,
    method: 'POST',
    path: '/v1/devices',
    body: { name: 'Demo sensor', model: 'quickstart' },
  });
}

const catalogs = [];
/**
 * Stops the apps, then drops each round's catalog with every placement it lists (the demo
 * tenant's schemas and their roles, its MariaDB database), and the quickstart folders.
 */
async function cleanup() {
  await stopAll();
  let schemas = 0;
  let databases = 0;
  for (const catalog of catalogs) {
    try {
      const dropped = await dropBenchLeftovers({ pgServerUrl, mariadbUrl, catalogDatabase: catalog });
      schemas += dropped?.schemas ?? 0;
      databases += dropped?.databases ?? 0;
    } catch (error) {
      log(`cleanup: ${catalog}: ${error.message}`);
    }
  }
  if (catalogs.length > 0)
    log(
      `cleanup: dropped ${catalogs.length} catalog(s) and what they listed: ${schemas} schema(s), ${databases} database(s)`,
    );
  rmSync(work, { recursive: true, force: true });
}
process.once('SIGINT', () => {
  killAll();
  process.exit(130);
});

const samples = { quickstartFirst: [], quickstartRestart: [], stackFirst: [], stackRestart: [] };
const memory = { quickstart: [], stack: [] };
let npmStart;
const machine = await machineInfo(pgServerUrl);
try {
  for (let round = 1; round <= ROUNDS; round++) {
    const dir = join(work, `quickstart-${round}`);
    const first = await startQuickstart(`qs-first-${round}`, dir);
    await first.stop();
    const again = await startQuickstart(`qs-restart-${round}`, dir);
    memory.quickstart.push(again.rss);
    await again.stop();
    samples.quickstartFirst.push(first.ms);
    samples.quickstartRestart.push(again.ms);

    const catalog = `polystore_qsb_${runId}_${round}`;
    const slug = `qsb${runId}${round}`;
    catalogs.push(catalog);
    const started = performance.now();
    const stack = await startStack(catalog);
    await createDemo(stack, slug);
    samples.stackFirst.push(performance.now() - started);
    await stack.stop();
    const restarted = await startStack(catalog);
    samples.stackRestart.push(restarted.ms);
    memory.stack.push(restarted.rss);
    await restarted.stop();
    log(
      `round ${round}: quickstart first ${(first.ms / 1000).toFixed(1)} s, restart ${(again.ms / 1000).toFixed(1)} s; ` +
        `stack first ${(samples.stackFirst.at(-1) / 1000).toFixed(1)} s, restart ${(restarted.ms / 1000).toFixed(1)} s`,
    );
    if (round === 1 && NPM_START) {
      const viaNpm = await startQuickstart('npm-start', dir, ['npm', 'start', '--silent']);
      npmStart = viaNpm.ms;
      await viaNpm.stop();
      log(`npm start (build included, existing folder): ${(npmStart / 1000).toFixed(1)} s`);
    }
  }
} finally {
  await cleanup();
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const s = (ms) => `${(ms / 1000).toFixed(1)} s`;
const result = {
  runAt: new Date().toISOString(),
  machine,
  rounds: ROUNDS,
  samplesMs: samples,
  npmStartMs: npmStart,
  rssMb: memory,
  median: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)])),
};
const m = result.median;
const markdown = `# Quickstart startup (\`npm start\`) vs the distributed stack

Run ${result.runAt} on ${machine.cpuCount} × ${machine.cpuModel}, ${machine.totalMemoryGiB} GiB, Node ${machine.nodeVersion}.
${ROUNDS} rounds, interleaved; medians (every sample in the JSON). Target: startup to ready under 15 s.

| | quickstart (one process, embedded PostgreSQL, in-process messaging) | stack (4 processes, PostgreSQL + MariaDB + NATS) | ratio |
|---|---|---|---|
| first start (new data; demo tenant + device created) | ${s(m.quickstartFirst)} | ${s(m.stackFirst)} | ${(m.quickstartFirst / m.stackFirst).toFixed(2)}× |
| restart (data kept) | ${s(m.quickstartRestart)} | ${s(m.stackRestart)} | ${(m.quickstartRestart / m.stackRestart).toFixed(2)}× |
| memory after restart (RSS, all processes) | ${median(memory.quickstart)} MB | ${median(memory.stack)} MB (servers not counted) | |

\`npm start\` on an existing folder, the build included: ${npmStart === undefined ? 'not measured in this run (BENCH_QUICKSTART_NPM_START=0 or a snapshot of the apps)' : s(npmStart)}.
Samples (s): quickstart first ${samples.quickstartFirst.map((v) => (v / 1000).toFixed(1)).join(', ')}; restart ${samples.quickstartRestart.map((v) => (v / 1000).toFixed(1)).join(', ')}; stack first ${samples.stackFirst.map((v) => (v / 1000).toFixed(1)).join(', ')}; restart ${samples.stackRestart.map((v) => (v / 1000).toFixed(1)).join(', ')}.
`;
const dir = process.env.BENCH_RESULTS_DIR ?? join(ROOT, 'bench/results');
mkdirSync(dir, { recursive: true });
const stamp = fileStamp(new Date());
writeFileSync(join(dir, `${stamp}-quickstart.json`), `${JSON.stringify(result, null, 2)}\n`);
writeFileSync(join(dir, `${stamp}-quickstart.md`), markdown);
writeFileSync(join(dir, 'latest-quickstart.md'), markdown);
log(markdown);
