import cliProgress from 'cli-progress';
import type { RunProgress, TenantOutcome, TenantRunReport } from '#polystore/jobs';

/** How a command prints: a table for people, one JSON document on stdout for scripts. */
export interface OutputMode {
  readonly json: boolean;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** A plain text table (no colours: it also goes to files and CI logs). */
export function printTable(rows: ReadonlyArray<Record<string, unknown>>, columns: readonly string[]): void {
  const cell = (v: unknown): string => {
    if (v === undefined || v === null) return '';
    if (v instanceof Date) return v.toISOString();
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return v.toString();
    return JSON.stringify(v) ?? '';
  };
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  process.stdout.write(`${line([...columns])}\n`);
  for (const row of rows) process.stdout.write(`${line(columns.map((c) => cell(row[c])))}\n`);
}

export function formatMs(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '?';
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1_000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1_000)} s`;
}

/**
 * Progress of a long run on stderr: a bar on a terminal; elsewhere (pipes, CI) one line per
 * tenant, `label: done/total, N failed, ETA` (stdout stays the command's result).
 */
export function progressReporter(label: string): { onProgress(p: RunProgress): void; stop(): void } {
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format: `${label} [{bar}] {value}/{total} | failed {failed} | skipped {skipped} | ETA {etaText}`,
        hideCursor: true,
        clearOnComplete: false,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      onProgress(p) {
        const payload = { failed: p.failed, skipped: p.skipped, etaText: formatMs(p.etaMs) };
        if (!started) {
          bar.start(p.total, p.done, payload);
          started = true;
        } else bar.update(p.done, payload);
      },
      stop() {
        if (started) bar.stop();
        started = false;
      },
    };
  }
  return {
    onProgress(p) {
      const last = describeOutcome(p.last);
      process.stderr.write(
        `${label}: ${p.done}/${p.total} done, ${p.failed} failed, ${p.skipped} skipped, ETA ${formatMs(p.etaMs)} (${last})\n`,
      );
    },
    stop() {},
  };
}

export function describeOutcome(o: TenantOutcome): string {
  const base = `${o.tenant} ${o.status} in ${formatMs(o.durationMs)}`;
  return o.error ? `${base}: ${o.error.code}: ${o.error.message}` : base;
}

/** The end of a run's human output: counts, then every failure with its error. */
export function printRunSummary(label: string, report: TenantRunReport & { runId?: string }): void {
  const resumed = report.resumed ? `, ${report.resumed} finished earlier (resumed run)` : '';
  process.stdout.write(
    `${label}: ${report.ok} ok, ${report.failed} failed, ${report.skipped} skipped of ${report.total} tenants` +
      `${resumed} in ${formatMs(report.durationMs)}${report.runId ? ` (run ${report.runId})` : ''}\n`,
  );
  for (const failed of report.outcomes.filter((o) => o.status === 'failed'))
    process.stdout.write(`  FAILED ${describeOutcome(failed)}\n`);
}
