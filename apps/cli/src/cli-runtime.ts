import { isCodedError } from '#polystore/platform';
import { loadConfigOrExit } from '#polystore/runtime';
import { CliContext } from './cli-context.js';
import { UsageError } from './commands/arguments.js';
import { cliConfigSchema } from './config.js';

/** Exit codes: 0 done, 1 failed (or some tenants failed), 2 wrong usage. */
export const ExitCode = { OK: 0, FAILED: 1, USAGE: 2 } as const;

/**
 * Runs one command: reads the configuration, opens the catalog and NATS, turns SIGINT/SIGTERM
 * into cancellation (a run lets go of its lease so it can be resumed; a second signal exits at
 * once), prints errors as `error: CODE: message` and sets the exit code.
 */
export class CliRuntime {
  /** `onStop`: what stopping means for this command, printed with the signal. */
  async run(
    command: (cli: CliContext, signal: AbortSignal) => Promise<number>,
    onStop = 'the run can be resumed',
  ): Promise<void> {
    const config = loadConfigOrExit(cliConfigSchema, process.env);
    const controller = new AbortController();
    const onSignal = (signal: NodeJS.Signals) => {
      if (controller.signal.aborted) process.exit(130);
      process.stderr.write(`${signal}: stopping; ${onStop} (send it again to exit now)\n`);
      controller.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    let cli: CliContext | undefined;
    try {
      cli = await CliContext.open(config);
      process.exitCode = await command(cli, controller.signal);
    } catch (error) {
      process.exitCode = reportError(error);
    } finally {
      await cli?.close().catch(() => undefined);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }

  /** For commands that need no catalog or NATS (they call the gateway). */
  async runOffline(command: (config: ReturnType<typeof loadConfig>) => Promise<number>): Promise<void> {
    try {
      process.exitCode = await command(loadConfig());
    } catch (error) {
      process.exitCode = reportError(error);
    }
  }
}

function loadConfig() {
  return loadConfigOrExit(cliConfigSchema, process.env);
}

export function reportError(error: unknown): number {
  if (error instanceof UsageError) {
    process.stderr.write(`error: ${error.message}\n`);
    return ExitCode.USAGE;
  }
  if (isCodedError(error)) process.stderr.write(`error: ${error.code}: ${error.message}\n`);
  else process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  return ExitCode.FAILED;
}
