import type { TenantOutcome } from '#polystore/jobs';
import type { Command } from 'commander';
import type { CliContext } from '../cli-context.js';
import type { CliRuntime } from '../cli-runtime.js';
import { keyMaintenanceJob, type KeyTask } from '../keys/key-maintenance.job.js';
import type { CustomerKeyUpgrade, TenantKeyRewrap } from '../../../secure-store/src/index.js';
import { printJson, printRunSummary, printTable, progressReporter } from '../output.js';
import { parseTenantList, positiveInt } from './arguments.js';

interface KeysFlags {
  tenants: string;
  concurrency: number;
  timeout: number;
  batch: number;
  fresh?: boolean;
  json?: boolean;
}

/**
 * `keys rotate` and `keys upgrade-customers`: see docs/security.md, "A versioned master key" and
 * "Customer data: a key per customer".
 */
export function registerKeys(program: Command, runtime: CliRuntime): void {
  const keys = program
    .command('keys')
    .description("the secure store's key hierarchy: master key rotation, customer keys");
  const common = (command: Command) =>
    command
      .option('--tenants <tenants>', 'all (the active tenants) or a comma-separated list of slugs', 'all')
      .option('--concurrency <n>', 'tenants worked on at once', positiveInt, 4)
      .option('--timeout <ms>', 'time one tenant may take', positiveInt, 120_000)
      .option('--fresh', 'start a new run instead of resuming an interrupted one')
      .option('--json', 'print the report as JSON');

  common(
    keys
      .command('rotate')
      .description(
        "wrap every tenant's data key under the current (first) MASTER_KEY version, online and resumable (then no tenant data key needs an older version; docs/security.md says what still does)",
      ),
  ).action((flags: KeysFlags) => runtime.run((cli, signal) => runKeys(cli, 'rotate', flags, signal)));

  common(
    keys
      .command('upgrade-customers')
      .description(
        'give every customer still sealed with its tenant field key a key of its own, so that erasing it shreds it (online, resumable)',
      )
      .option('--batch <n>', 'customers sealed again per transaction', positiveInt, 500),
  ).action((flags: KeysFlags) => runtime.run((cli, signal) => runKeys(cli, 'upgrade-customers', flags, signal)));
}

async function runKeys(cli: CliContext, task: KeyTask, flags: KeysFlags, signal: AbortSignal): Promise<number> {
  const label = `keys ${task}`;
  const tenants = flags.tenants === 'all' ? undefined : parseTenantList(flags.tenants);
  const job = keyMaintenanceJob(cli.catalog, cli.masterKeyring, {
    task,
    concurrency: flags.concurrency,
    tenantTimeoutMs: flags.timeout,
    batchSize: flags.batch ?? 500,
  });
  const scheduler = cli.scheduler([job]);
  const progress = progressReporter(label);
  const kekVersion = cli.masterKeyring.current.version;
  try {
    const report = await scheduler.runNow(job.name, {
      ...(tenants ? { tenants } : {}),
      // A run towards another master key version is another run: its checkpoint is not reused.
      params: { tenants: tenants ? 'list' : 'all', ...(task === 'rotate' ? { kekVersion } : {}) },
      resume: !flags.fresh,
      onProgress: (p) => progress.onProgress(p),
      signal,
    });
    progress.stop();
    const rows = report.outcomes.map((o) => tenantRow(task, o));
    const totals = sumColumns(rows, task === 'rotate' ? ['rewrapped', 'alreadyCurrent'] : ['upgraded', 'remaining']);
    if (flags.json) printJson({ ...report, task, ...(task === 'rotate' ? { kekVersion } : {}), ...totals });
    else {
      printTable(
        rows,
        task === 'rotate'
          ? ['tenant', 'status', 'rewrapped', 'alreadyCurrent', 'error']
          : ['tenant', 'status', 'upgraded', 'remaining', 'error'],
      );
      printRunSummary(label, report);
      process.stdout.write(
        task === 'rotate'
          ? `${totals['rewrapped']} tenant key(s) rewrapped to master key v${kekVersion}, ${totals['alreadyCurrent']} already current\n`
          : `${totals['upgraded']} customer(s) given keys of their own, ${totals['remaining']} still sealed with a tenant field key\n`,
      );
      if (task === 'rotate' && report.failed === 0 && !report.cancelled)
        process.stdout.write(
          `every listed tenant's data key is wrapped by master key v${kekVersion}; see docs/security.md before removing older versions\n`,
        );
    }
    return report.failed > 0 || report.cancelled ? 1 : 0;
  } finally {
    progress.stop();
    await job.close();
  }
}

/** One line of the summary: the tenant, its status, its counts (resumed tenants' from the checkpoint). */
function tenantRow(task: KeyTask, outcome: TenantOutcome): Record<string, unknown> {
  // A result as the job returned it, or as the checkpoint stored it (JSON) for a resumed tenant.
  const result = (outcome.result ?? {}) as Partial<Record<keyof TenantKeyRewrap | keyof CustomerKeyUpgrade, number>>;
  const counts =
    task === 'rotate'
      ? { rewrapped: result.rewrapped ?? 0, alreadyCurrent: result.alreadyCurrent ?? 0 }
      : { upgraded: result.upgraded ?? 0, remaining: result.remaining ?? 0 };
  return {
    tenant: outcome.tenant,
    status: outcome.fromCheckpoint ? `${outcome.status} (earlier)` : outcome.status,
    ...counts,
    error: outcome.error ? `${outcome.error.code}: ${outcome.error.message}` : '',
  };
}

function sumColumns(rows: ReadonlyArray<Record<string, unknown>>, columns: readonly string[]): Record<string, number> {
  return Object.fromEntries(
    columns.map((c) => [c, rows.reduce((n, row) => n + (typeof row[c] === 'number' ? row[c] : 0), 0)]),
  );
}
