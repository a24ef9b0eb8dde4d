import type { RunRecord } from '#polystore/jobs';
import type { ConsoleSession } from '../console-session.util.js';
import { html, type SafeHtml } from '../html.util.js';
import type { JobSchedule } from '../job-runs.service.js';
import { layout, when } from './layout.view.js';

/** A run that did not go through: a tenant failed, or the run was cancelled. */
export function runFailed(run: RunRecord): boolean {
  return run.failed > 0 || run.state === 'CANCELLED';
}

/** An interval as the operator reads it: `90 s`, `15 min`, `6 h`, `1 d` (whole units only, else ms). */
export function interval(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['min', 60_000],
    ['s', 1_000],
  ] as const)
    if (ms >= size && ms % size === 0) return `${ms / size} ${unit}`;
  return `${ms} ms`;
}

function runRow(run: RunRecord): SafeHtml {
  const mark = runFailed(run) ? 'failed' : '';
  return html`<tr data-run="${run.id}" data-job="${run.job}" data-state="${run.state}" class="${mark}">
    <td>${run.job}</td>
    <td><code>${run.id}</code></td>
    <td class="state ${run.state}">${run.state}</td>
    <td>${run.slot ? 'scheduled' : 'manual'}</td>
    <td>${when(run.createdAt)}</td>
    <td>${when(run.finishedAt)}</td>
    <td data-figure="total">${run.total}</td>
    <td data-figure="ok">${run.ok}</td>
    <td data-figure="failed" class="${run.failed > 0 ? 'error' : ''}">${run.failed}</td>
    <td data-figure="skipped">${run.skipped}</td>
    <td>${run.owner ?? '—'}</td>
  </tr> `;
}

function scheduleRow(schedule: JobSchedule): SafeHtml {
  const next = schedule.next;
  return html`<tr data-job="${schedule.job}">
    <td><a href="/console/jobs?job=${schedule.job}">${schedule.job}</a></td>
    <td>${schedule.intervalMs === null ? 'not scheduled by this gateway' : interval(schedule.intervalMs)}</td>
    <td data-next="${next ? next.at.toISOString() : ''}">
      ${next ? (next.due ? 'due now (next tick)' : when(next.at)) : '—'}
    </td>
    <td class="${schedule.latest && runFailed(schedule.latest) ? 'error' : ''}">
      ${schedule.latest ? html`${schedule.latest.state} ${when(schedule.latest.createdAt)}` : 'never run'}
    </td>
  </tr> `;
}

/**
 * The jobs page: each job's schedule on this gateway (`JOBS`, `JOB_INTERVALS`) and next run,
 * then the newest runs per job (or of the job filtered on), failures highlighted.
 */
export function jobsPage(
  jobNames: readonly string[],
  job: string | undefined,
  schedules: readonly JobSchedule[],
  runs: readonly RunRecord[],
  session: ConsoleSession,
): SafeHtml {
  return layout(
    job ? `Jobs: ${job}` : 'Jobs',
    html`<form method="get" action="/console/jobs" class="filter">
        <label for="job">Job</label>
        <select id="job" name="job">
          <option value="">all</option>
          ${jobNames.map((name) => html`<option value="${name}" ${name === job ? html` selected` : ''}>${name}</option>`)}
        </select>
        <button id="filter" type="submit">Show</button>
      </form>
      <table id="schedule">
        <thead>
          <tr>
            <th>Job</th>
            <th>Every</th>
            <th>Next run</th>
            <th>Last run</th>
          </tr>
        </thead>
        <tbody>
          ${schedules.map(scheduleRow)}
        </tbody>
      </table>
      <h2>Runs</h2>
      <table id="jobs">
        <thead>
          <tr>
            <th>Job</th>
            <th>Run</th>
            <th>State</th>
            <th>Kind</th>
            <th>Started</th>
            <th>Finished</th>
            <th>Tenants</th>
            <th>Ok</th>
            <th>Failed</th>
            <th>Skipped</th>
            <th>Owner</th>
          </tr>
        </thead>
        <tbody>
          ${runs.map(runRow)}
        </tbody>
      </table>`,
    session,
  );
}
