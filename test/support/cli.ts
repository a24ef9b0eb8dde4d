import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** How a CLI run ended: its exit code and everything it printed. */
export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the built CLI (`npm run cli`, `dist/apps/cli/src/main.js`) from the repository root with
 * exactly `env`; `onStderr` sees its progress lines as they come (and may kill it).
 */
export function runCli(
  args: readonly string[],
  env: Record<string, string>,
  onStderr?: (text: string, kill: () => void) => void,
): Promise<CliResult> {
  const child = spawn(process.execPath, [`${ROOT}dist/apps/cli/src/main.js`, ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    onStderr?.(stderr, () => child.kill('SIGKILL'));
  });
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}
