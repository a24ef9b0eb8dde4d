import { STORE_NAMES, isStoreName, type StoreName } from '#polystore/catalog';
import { forEachTenant, type TenantRunReport } from '#polystore/jobs';
import type { Command } from 'commander';
import type { CliContext } from '../cli-context.js';
import type { CliRuntime } from '../cli-runtime.js';
import { migrateJob, type StoreMigration } from '../migrate/migrate.job.js';
import { printJson, printRunSummary, progressReporter } from '../output.js';
import { parseTenantList, positiveInt, UsageError } from './arguments.js';

interface MigrateFlags {
  store: string;
  tenants: string;
  concurrency: number;
  timeout: number;
  dryRun?: boolean;
  fresh?: boolean;
  json?: boolean;
}

export function registerMigrate(program: Command, runtime: CliRuntime): void {
  program
    .command('migrate')
    .description("apply each store's pending migrations to every tenant database (resumable)")
    .option('--store <store>', `${STORE_NAMES.join(' | ')} | all`, 'all')
    .option('--tenants <tenants>', 'all (the active tenants) or a comma-separated list of slugs', 'all')
    .option('--concurrency <n>', 'tenants migrated at once', positiveInt, 4)
    .option('--timeout <ms>', 'time one tenant may take', positiveInt, 120_000)
    .option('--dry-run', 'list the pending migrations, change nothing')
    .option('--fresh', 'start a new run instead of resuming an interrupted one')
    .option('--json', 'print the report as JSON')
    .action((flags: MigrateFlags) => runtime.run((cli, signal) => migrate(cli, flags, signal)));
}

async function migrate(cli: CliContext, flags: MigrateFlags, signal: AbortSignal) {
  const stores = parseStores(flags.store);
  const tenants = flags.tenants === 'all' ? undefined : parseTenantList(flags.tenants);
  const job = migrateJob(cli.catalog, {
    stores,
    dryRun: flags.dryRun ?? false,
    concurrency: flags.concurrency,
    tenantTimeoutMs: flags.timeout,
  });
  const progress = progressReporter(flags.dryRun ? 'migrate --dry-run' : 'migrate');
  let report: TenantRunReport & { runId?: string };
  try {
    if (flags.dryRun) {
      // Nothing changes, so nothing to resume: no run is recorded.
      report = await forEachTenant({
        tenants: tenants ?? (await cli.activeTenants()),
        concurrency: job.concurrency,
        tenantTimeoutMs: job.tenantTimeoutMs,
        signal,
        onProgress: (p) => progress.onProgress(p),
        work: (tenant, tenantSignal) =>
          job.run(tenant, { signal: tenantSignal, now: new Date(), messages: cli.messages }),
      });
    } else {
      const scheduler = cli.scheduler([job]);
      report = await scheduler.runNow('migrate', {
        ...(tenants ? { tenants } : {}),
        params: { stores, tenants: tenants ? 'list' : 'all' },
        resume: !flags.fresh,
        onProgress: (p) => progress.onProgress(p),
        signal,
      });
    }
  } finally {
    progress.stop();
    await job.close();
  }

  const results = report.outcomes.flatMap((o) =>
    ((o.result as StoreMigration[] | undefined) ?? []).map((r) => ({ tenant: o.tenant, ...r })),
  );
  const applied = results.reduce((n, r) => n + ('applied' in r ? r.applied.length : 0), 0);
  const pending = results.reduce((n, r) => n + ('pending' in r ? r.pending.length : 0), 0);
  if (flags.json)
    printJson({
      ...report,
      stores,
      dryRun: flags.dryRun ?? false,
      migrationsApplied: applied,
      migrationsPending: pending,
    });
  else {
    for (const r of results) {
      if ('applied' in r && r.applied.length)
        process.stdout.write(`  ${r.tenant} ${r.store}: applied ${r.applied.join(', ')}\n`);
      if ('pending' in r && r.pending.length)
        process.stdout.write(`  ${r.tenant} ${r.store}: pending ${r.pending.join(', ')}\n`);
    }
    printRunSummary(flags.dryRun ? 'migrate --dry-run' : 'migrate', report);
    if (flags.dryRun) process.stdout.write(`${pending} pending migration(s); nothing was changed\n`);
    else if (applied === 0 && report.failed === 0)
      process.stdout.write(`nothing to do: every tenant database is current (${stores.join(', ')})\n`);
    else process.stdout.write(`${applied} migration(s) applied\n`);
  }
  return report.failed > 0 || report.cancelled ? 1 : 0;
}

function parseStores(value: string): StoreName[] {
  if (value === 'all') return [...STORE_NAMES];
  const stores = value.split(',').map((s) => s.trim());
  const bad = stores.find((s) => !isStoreName(s));
  if (bad !== undefined) throw new UsageError(`--store: unknown store "${bad}" (${STORE_NAMES.join(', ')} or all)`);
  return stores as StoreName[];
}
