import type { Command } from 'commander';
import type { CliRuntime } from '../cli-runtime.js';
import { OpsWorker } from '../ops/ops-worker.js';

/**
 * `ops worker`: runs the long operations asked for in the console (moves, migrations); see
 * docs/operations.md, "The ops worker".
 */
export function registerOps(program: Command, runtime: CliRuntime): void {
  const ops = program.command('ops').description('long operations asked for in the console (moves, migrations)');
  ops
    .command('worker')
    .description(
      'run the moves and migrations the console queued, one at a time, until SIGTERM/SIGINT (the one under way finishes first)',
    )
    .addHelpText(
      'after',
      `
Environment: the CLI's (SYSTEM_DB_URL, NATS_URL, MASTER_KEY, ...), each store's default server with a
login that may create databases (SECURE_SERVER_URL, RELIABLE_SERVER_URL, EDGE_SERVER_URL), OPS_LEASE_MS
(15000: how soon another worker takes over the operation of a killed one) and OPS_POLL_MS (1000).
Several workers may run: an operation runs on one at a time. See docs/operations.md, "The ops worker".`,
    )
    .action(() =>
      runtime.run(async (cli, signal) => {
        const worker = new OpsWorker(cli, {
          worker: `cli:${cli.config.INSTANCE_ID}`,
          leaseMs: cli.config.OPS_LEASE_MS,
          pollMs: cli.config.OPS_POLL_MS,
          log: (line) => process.stderr.write(`${line}\n`),
        });
        await worker.run(signal);
        return 0;
      }, 'no new operation is claimed, a move under way runs to its end'),
    );
}
