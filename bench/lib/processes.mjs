// Starting and stopping the processes under test (gateway, secure store, the floor).
//
// Each process writes its log to a file (not a pipe): the apps log one access line per request
// at `info`, and a pipe that the bench stopped reading would block them. The bench reads the
// file only until the `{"msg":"ready","port":N}` line appears (the gateway's also has `adminPort`).
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { storeKeyOf } from '#polystore/catalog';
import { APPS_ROOT, PROFILE_DIR, ROOT } from './config.mjs';

/** Every process this run started and has not seen exit: what cleanup must stop. */
const running = new Set();
/** Processes started so far; numbers the log files, so a restarted app never reads an old `ready`. */
let started = 0;

/** One started process. */
class AppProcess {
  constructor(name, child, logPath) {
    this.name = name;
    this.child = child;
    this.logPath = logPath;
    this.port = 0;
    /** The gateway's admin port (admin API, /metrics, /docs, /health/ready); 0 for the other apps. */
    this.adminPort = 0;
    this.exit = null;
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        running.delete(this);
        resolve(this.exit);
      }),
    );
  }

  get pid() {
    return this.child.pid;
  }

  get isRunning() {
    return this.exit === null;
  }

  /** The last `chars` characters of the log, for error messages. */
  logTail(chars = 3000) {
    try {
      return readFileSync(this.logPath, 'utf8').slice(-chars);
    } catch {
      return '';
    }
  }

  /** Waits for the `ready` log line and reads the ports from it; fails if the process exits first. */
  async waitReady(timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const ready = readyRecord(this.logPath);
      if (ready) {
        this.port = Number(ready.port);
        this.adminPort = Number(ready.adminPort ?? 0);
        return this;
      }
      if (!this.isRunning)
        throw new Error(`${this.name} exited (${JSON.stringify(this.exit)}) before ready:\n${this.logTail()}`);
      await sleep(50);
    }
    throw new Error(`${this.name} not ready after ${timeoutMs} ms:\n${this.logTail()}`);
  }

  /** SIGTERM, then waits for the exit (SIGKILL after `timeoutMs`). */
  async stop(timeoutMs = 20_000) {
    if (!this.isRunning) return this.exit;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The parsed `ready` record of a JSON-lines log file, or null. */
function readyRecord(logPath) {
  let text;
  try {
    text = readFileSync(logPath, 'utf8');
  } catch {
    return null;
  }
  for (const line of text.split('\n')) {
    if (!line.includes('"ready"')) continue;
    try {
      const record = JSON.parse(line);
      if (record.msg === 'ready' && record.port) return record;
    } catch {
      // not a JSON line
    }
  }
  return null;
}

/** `--cpu-prof` into PROFILE_DIR: the profile is written when the process exits (SIGTERM: a graceful exit). */
function profileArgs(name) {
  mkdirSync(PROFILE_DIR, { recursive: true });
  return ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, `--cpu-prof-name=${name}.cpuprofile`];
}

/** Writes `<dir>/summary.md` from the profiles the stopped apps wrote there (bench/profile-summary.mjs). */
export function summarizeProfiles(dir) {
  if (!existsSync(dir)) return;
  spawnSync(process.execPath, [join(ROOT, 'bench/profile-summary.mjs'), dir], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  process.stderr.write(`CPU profiles and their summary: ${dir}\n`);
}

/**
 * Starts `node <script>` (a path relative to `appsRoot`, by default the directory holding the
 * built apps, see `BENCH_APPS_ROOT`) with exactly `env` (plus PATH), logging to
 * `<logDir>/<n>-<name>.log`, and waits until it is ready.
 *
 * `detached: true` puts the child in its own process group, so a Ctrl-C in the terminal reaches
 * only the bench, which then deletes its tenants through the still-running gateway before it
 * stops the apps itself.
 */
export async function startApp({ name, script, env, logDir, appsRoot = APPS_ROOT }) {
  const number = String(++started).padStart(2, '0');
  const logPath = join(logDir, `${number}-${name}.log`);
  const fd = openSync(logPath, 'w');
  const profile = PROFILE_DIR && name !== 'floor' && name !== 'naive' ? profileArgs(`${number}-${name}`) : [];
  const child = spawn(process.execPath, [...profile, join(appsRoot, script)], {
    cwd: appsRoot,
    env: { PATH: process.env.PATH ?? '', ...keysOf(script, env, appsRoot) },
    stdio: ['ignore', fd, fd],
    detached: true,
  });
  closeSync(fd);
  const app = new AppProcess(name, child, logPath);
  running.add(app);
  try {
    return await app.waitReady();
  } catch (error) {
    await app.stop(5_000);
    throw error;
  }
}

/**
 * The benches give every app MASTER_KEY; a build with store keys refuses it in the reliable and
 * edge stores in production, which get their own key instead (what `polystore store-key` prints).
 * An older build (a snapshot under BENCH_APPS_ROOT) keeps the master key it requires.
 */
function keysOf(script, env, appsRoot) {
  const store = /apps\/(reliable|edge)-store\//.exec(script)?.[1];
  if (!store || env.MASTER_KEY === undefined || !knowsStoreKeys(appsRoot)) return env;
  const { MASTER_KEY: master, ...rest } = env;
  return { ...rest, STORE_KEY: storeKeyOf(Buffer.from(master, 'base64'), store).toString('base64') };
}

function knowsStoreKeys(appsRoot) {
  const config = join(appsRoot, 'dist/libs/runtime/src/common-config.js');
  return existsSync(config) && readFileSync(config, 'utf8').includes('STORE_KEY');
}

/** Stops every process still running (used by cleanup). */
export async function stopAll() {
  await Promise.all([...running].map((app) => app.stop()));
}

/** Last resort on a forced exit: SIGKILL whatever is left, synchronously. */
export function killAll() {
  for (const app of running) app.child.kill('SIGKILL');
}
