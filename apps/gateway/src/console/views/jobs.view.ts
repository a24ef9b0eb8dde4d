import type { RunRecord, TenantOutcome } from '#polystore/jobs';
import type { ConsoleSession } from '../console-session.util.js';
import { html, type SafeHtml } from '../html.util.js';
import type { JobRunDetail, JobSchedule } from '../job-runs.service.js';
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
    <td>
      <a href="/console/jobs/${run.id}"><code>${run.id}</code></a>
    </td>
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

function outcomeRow(outcome: TenantOutcome): SafeHtml {
  return html`<tr
    data-tenant="${outcome.tenant}"
    data-status="${outcome.status}"
    class="${outcome.status === 'failed' ? 'failed' : ''}"
  >
    <td><a href="/console/tenants/${outcome.tenant}">${outcome.tenant}</a></td>
    <td class="${outcome.status === 'failed' ? 'error' : ''}">${outcome.status}</td>
    <td>${outcome.durationMs} ms</td>
    <td>${outcome.error ? html`<code>${outcome.error.code}</code> ${outcome.error.message}` : '—'}</td>
  </tr> `;
}

/** One job run: its counts, then each tenant's outcome, failures first (at most the first 500). */
export function jobRunPage(detail: JobRunDetail, session: ConsoleSession): SafeHtml {
  const { run, outcomes, recorded } = detail;
  return layout(
    `Job run ${run.job}`,
    html`<dl id="run" data-run="${run.id}" data-state="${run.state}">
        <dt>Job</dt>
        <dd><a href="/console/jobs?job=${run.job}">${run.job}</a></dd>
        <dt>Run</dt>
        <dd><code>${run.id}</code></dd>
        <dt>State</dt>
        <dd class="state ${run.state}">${run.state}</dd>
        <dt>Started</dt>
        <dd>${when(run.createdAt)}</dd>
        <dt>Finished</dt>
        <dd>${when(run.finishedAt)}</dd>
        <dt>Tenants</dt>
        <dd>${run.total} (${run.ok} ok, ${run.failed} failed, ${run.skipped} skipped)</dd>
        <dt>Owner</dt>
        <dd>${run.owner ?? '—'}</dd>
      </dl>
      <h2>Tenants</h2>
      ${
        recorded > outcomes.length
          ? html`<p class="note" id="outcomes-cut">
              The first ${outcomes.length} of ${recorded} outcomes, failures first.
            </p>`
          : html``
      }
      <table id="outcomes">
        <thead>
          <tr>
            <th>Tenant</th>
            <th>Outcome</th>
            <th>Took</th>
            <th>Error</th>
          </tr>
        </thead>
        <tbody>
          ${outcomes.map(outcomeRow)}
        </tbody>
      </table>`,
    session,
  );
}
