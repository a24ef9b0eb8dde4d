import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { eventually } from './eventually.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A running `polystore ops worker`: the real, built CLI process. */
export interface OpsWorkerProcess {
  readonly child: ChildProcess;
  /** Everything it wrote to stderr so far (its progress lines). */
  readonly stderr: () => string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM (it finishes the operation under way, then exits); resolves with how it exited. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts `dist/apps/cli/src/main.js ops worker` with exactly `env` (a stack's `cliEnv(...)`) and
 * waits until it looks for operations: its signal handlers are in place from then on.
 */
export async function startOpsWorker(env: Record<string, string>): Promise<OpsWorkerProcess> {
  const child = spawn(process.execPath, [`${ROOT}dist/apps/cli/src/main.js`, 'ops', 'worker'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const worker: OpsWorkerProcess = {
    child,
    stderr: () => stderr,
    exited,
    stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
  try {
    await eventually(() => stderr.includes('waiting for operations') || child.exitCode !== null, {
      timeoutMs: 20_000,
      what: 'the ops worker up',
    });
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  if (child.exitCode !== null) throw new Error(`ops worker exited ${child.exitCode}:\n${stderr}`);
  return worker;
}
