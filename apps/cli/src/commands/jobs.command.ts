import { BUILTIN_JOBS, type JobScheduler } from '#polystore/jobs';
import type { Command } from 'commander';
import type { CliContext } from '../cli-context.js';
import type { CliRuntime } from '../cli-runtime.js';
import { formatMs, printJson, printRunSummary, printTable, progressReporter } from '../output.js';
import { parseTenantList, positiveInt } from './arguments.js';

export function registerJobs(program: Command, runtime: CliRuntime): void {
  const jobs = program.command('jobs').description('scheduled jobs over all tenants');

  jobs
    .command('list')
    .description('the jobs and their schedules')
    .option('--json', 'print JSON')
    .action((flags: { json?: boolean }) =>
      runtime.runOffline(() => {
        const rows = BUILTIN_JOBS.map((j) => ({
          name: j.name,
          every: formatMs(j.intervalMs),
          description: j.description,
        }));
        if (flags.json) printJson(rows);
        else printTable(rows, ['name', 'every', 'description']);
        return Promise.resolve(0);
      }),
    );

  jobs
    .command('run <job>')
    .description('run a job now, for every active tenant or the given ones (resumes an interrupted run with --resume)')
    .option('--tenant <slugs>', 'comma-separated tenant slugs (default: every active tenant)')
    .option('--resume', 'continue an interrupted run of the same job and tenants')
    .option('--json', 'print the report as JSON')
    .action((name: string, flags: { tenant?: string; resume?: boolean; json?: boolean }) =>
      runtime.run(async (cli, signal) => {
        const scheduler = schedulerFor(cli);
        scheduler.job(name);
        const progress = progressReporter(`jobs run ${name}`);
        try {
          const report = await scheduler.runNow(name, {
            ...(flags.tenant ? { tenants: parseTenantList(flags.tenant) } : {}),
            resume: flags.resume ?? false,
            onProgress: (p) => progress.onProgress(p),
            signal,
          });
          progress.stop();
          if (flags.json) printJson(report);
          else {
            for (const o of report.outcomes.filter((x) => x.status === 'ok' && !x.fromCheckpoint))
              process.stdout.write(`  ${o.tenant}: ${JSON.stringify(o.result ?? {})}\n`);
            printRunSummary(`jobs run ${name}`, report);
          }
          return report.failed > 0 || report.state !== 'FINISHED' ? 1 : 0;
        } finally {
          progress.stop();
        }
      }),
    );

  jobs
    .command('runs')
    .description('recent runs, scheduled and manual')
    .option('--job <name>', 'only this job')
    .option('--limit <n>', 'how many', positiveInt, 20)
    .option('--json', 'print JSON')
    .action((flags: { job?: string; limit: number; json?: boolean }) =>
      runtime.run(async (cli) => {
        const runs = await cli.runLog.list({ ...(flags.job ? { job: flags.job } : {}), limit: flags.limit });
        if (flags.json) printJson(runs);
        else
          printTable(
            runs.map((r) => ({ ...r, slot: r.slot ?? 'manual', started: r.createdAt, finished: r.finishedAt ?? '' })),
            ['id', 'job', 'slot', 'state', 'owner', 'ok', 'failed', 'skipped', 'started', 'finished'],
          );
        return 0;
      }),
    );
}

function schedulerFor(cli: CliContext): JobScheduler {
  return cli.scheduler(BUILTIN_JOBS);
}
