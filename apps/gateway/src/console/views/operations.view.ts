import type { OperationRecord, PlacementView } from '#polystore/catalog';
import type { ConsoleSession } from '../console-session.util.js';
import { html, type SafeHtml } from '../html.util.js';
import type { StoreMoveTargets } from '../move-targets.service.js';
import { csrfField, layout, when } from './layout.view.js';

/** A queued operation nobody claimed for this long: no worker is running (the page says so). */
export const UNCLAIMED_AFTER_MS = 10_000;
/** How to start a worker, as the page shows it. */
export const WORKER_COMMAND = 'npm run cli -- ops worker';

/** Whether the operation has its final state (the page stops polling). */
export function isFinished(operation: OperationRecord): boolean {
  return operation.state === 'succeeded' || operation.state === 'failed';
}

/** `host:port` of a server id (`dialect://host:port`). */
function hostPortOf(server: string): string {
  return server.replace(/^[a-z]+:\/\//, '');
}

/**
 * A placement's long actions on the tenant page: move it (target kind, and a server the catalog
 * knows for the store or its default: never a typed URL) and run its migrations; each a form with
 * `_csrf`, confirmed first (`hx-confirm`), that goes to the operation's page.
 */
export function placementActions(
  slug: string,
  placement: PlacementView,
  targets: StoreMoveTargets | undefined,
  session: ConsoleSession,
): SafeHtml {
  const base = `/console/tenants/${slug}/placements/${placement.store}`;
  const move = targets
    ? html`<form method="post" action="${base}/move" class="action move">
        ${csrfField(session)}<select name="targetKind" data-move-kind="${placement.store}" aria-label="target kind">
          ${targets.kinds.map(
            (kind) => html`<option value="${kind}" ${kind === placement.kind ? html` selected` : ''}>${kind}</option>`,
          )}</select
        ><select name="targetServer" data-move-server="${placement.store}" aria-label="target server">
          ${targets.servers.map(
            (t) =>
              html`<option value="${t.server}" ${t.server === placement.server ? html` selected` : ''}>
                ${hostPortOf(t.server)}${t.isDefault ? ' (default)' : ''}${t.server === placement.server ? ' (current)' : ''}
              </option>`,
          )}</select
        ><button
          type="submit"
          data-move="${placement.store}"
          hx-post="${base}/move"
          hx-confirm="Move the ${placement.store} placement of ${slug}? Its writes pause while the copy is switched."
        >
          Move
        </button>
      </form>`
    : html``;
  return html`${move}
    <form method="post" action="${base}/migrate" class="action migrate">
      ${csrfField(session)}<button
        type="submit"
        data-migrate="${placement.store}"
        hx-post="${base}/migrate"
        hx-confirm="Run the pending ${placement.store} migrations of ${slug}?"
      >
        Run migrations
      </button>
    </form>`;
}

/** What an operation asked for, in words. */
function describe(operation: OperationRecord): string {
  if (operation.kind === 'migrate') return `migrations of the ${operation.store} placement`;
  const { targetKind, targetServer } = operation.params as { targetKind?: string; targetServer?: string };
  return `move the ${operation.store} placement to ${targetKind ?? '?'} on ${hostPortOf(targetServer ?? '?')}`;
}

/** The newest operations. */
export function operationsPage(operations: readonly OperationRecord[], session: ConsoleSession): SafeHtml {
  return layout(
    'Operations',
    html`<p>Moves and migrations asked for here are run by <code>${WORKER_COMMAND}</code>.</p>
      <table id="operations">
        <thead>
          <tr>
            <th>Id</th>
            <th>Tenant</th>
            <th>What</th>
            <th>State</th>
            <th>Phase</th>
            <th>Requested</th>
            <th>By</th>
            <th>Error</th>
          </tr>
        </thead>
        <tbody>
          ${operations.map(
            (op) =>
              html`<tr
                data-operation="${op.id}"
                data-state="${op.state}"
                class="${op.state === 'failed' ? 'failed' : ''}"
              >
                <td>
                  <a href="/console/operations/${op.id}"><code>${op.id}</code></a>
                </td>
                <td><a href="/console/tenants/${op.tenant}">${op.tenant}</a></td>
                <td>${describe(op)}</td>
                <td class="state ${op.state}">${op.state}</td>
                <td>${op.phase ?? ''}</td>
                <td>${when(op.createdAt)}</td>
                <td>${op.requestedBy}</td>
                <td>${op.errorCode ?? ''}</td>
              </tr> `,
          )}
        </tbody>
      </table>`,
    session,
  );
}

/** Why nothing moves: nobody claimed it, or its worker's lease ran out. */
function workerNote(operation: OperationRecord): SafeHtml {
  const now = operation.readAt.getTime();
  if (operation.state === 'queued' && now - operation.createdAt.getTime() > UNCLAIMED_AFTER_MS)
    return html`<p id="no-worker" class="error">
      No ops worker is running: nothing claimed this request for over ${UNCLAIMED_AFTER_MS / 1_000} s. Start one with
      <code>${WORKER_COMMAND}</code> (<code>polystore ops worker</code>).
    </p>`;
  if (operation.state === 'running' && operation.leaseUntil && operation.leaseUntil.getTime() < now)
    return html`<p id="no-worker" class="error">
      Its worker (${operation.worker ?? '?'}) stopped answering (lease expired ${when(operation.leaseUntil)}): no ops
      worker is running to take it over. Start one with <code>${WORKER_COMMAND}</code>.
    </p>`;
  return html``;
}

/** An event's time to the millisecond (UTC). */
function preciseTime(at: string): string {
  return new Date(at).toISOString().replace('T', ' ').replace('Z', '');
}

/** Milliseconds from the operation's first event (its request) to `at`. */
function sinceFirst(operation: OperationRecord, at: string): number {
  const first = operation.events[0];
  return first ? Math.max(0, new Date(at).getTime() - new Date(first.at).getTime()) : 0;
}

/** The final report: a move's write pause, totals and rows; the migrations applied. */
function reportOf(operation: OperationRecord): SafeHtml {
  const report = operation.report;
  if (!report) return html``;
  const number = (v: unknown) => (typeof v === 'number' ? v : undefined);
  if (operation.kind === 'migrate') {
    const applied = Array.isArray(report['applied']) ? (report['applied'] as unknown[]).map(String) : [];
    return html`<dl id="report">
      <dt>Migrations applied</dt>
      <dd id="migrations-applied">${number(report['migrationsApplied']) ?? applied.length}</dd>
      <dt>Names</dt>
      <dd>${applied.length ? applied.join(', ') : 'none: the placement was current'}</dd>
    </dl>`;
  }
  const kind = report['kind'] as { before?: string; after?: string } | undefined;
  const version = report['placementVersion'] as { before?: number; after?: number } | undefined;
  return html`<dl id="report">
    <dt>Writes paused</dt>
    <dd id="writes-paused">${number(report['writesPausedMs']) ?? '—'} ms</dd>
    <dt>Total time</dt>
    <dd id="duration">${number(report['durationMs']) ?? '—'} ms</dd>
    <dt>Rows copied</dt>
    <dd id="rows-copied">${number(report['rowsCopied']) ?? '—'}</dd>
    <dt>Tables</dt>
    <dd>${Array.isArray(report['tables']) ? (report['tables'] as unknown[]).length : '—'}</dd>
    <dt>Kind</dt>
    <dd>${kind?.before ?? '?'} → ${kind?.after ?? '?'}</dd>
    <dt>Server</dt>
    <dd>
      ${typeof report['from'] === 'string' ? hostPortOf(report['from']) : '?'} →
      ${typeof report['to'] === 'string' ? hostPortOf(report['to']) : '?'}
    </dd>
    <dt>Placement version</dt>
    <dd>${version?.before ?? '?'} → ${version?.after ?? '?'}</dd>
    ${
      typeof report['note'] === 'string'
        ? html`<dt>Note</dt>
            <dd>${report['note']}</dd>`
        : ''
    }
  </dl>`;
}

/**
 * The operation's live part: state, phases with their times, then the report or the error. While
 * it is not finished, htmx replaces it with `/console/operations/<id>/progress` every second; the
 * finished one has no trigger, so polling stops. Without JavaScript, reloading the page shows the same.
 */
export function operationSection(operation: OperationRecord): SafeHtml {
  const finished = isFinished(operation);
  const polling = finished
    ? html``
    : html` hx-get="/console/operations/${operation.id}/progress" hx-trigger="every 1s" hx-swap="outerHTML"`;
  return html`<section id="operation" data-operation="${operation.id}" data-state="${operation.state}" ${polling}>
    <dl>
      <dt>State</dt>
      <dd id="operation-state" class="state ${operation.state}">${operation.state}</dd>
      <dt>Phase</dt>
      <dd id="operation-phase">${operation.phase ?? '—'}</dd>
      <dt>Worker</dt>
      <dd>${operation.worker ?? '—'}${operation.attempts > 1 ? ` (attempt ${operation.attempts})` : ''}</dd>
      <dt>Finished</dt>
      <dd id="operation-finished">${when(operation.finishedAt)}</dd>
      ${
        operation.errorCode
          ? html`<dt>Error</dt>
              <dd id="operation-error" class="error">
                <code>${operation.errorCode}</code> ${operation.errorMessage ?? ''}
              </dd>`
          : ''
      }
    </dl>
    ${workerNote(operation)} ${reportOf(operation)}
    <h2>Phases</h2>
    <ol id="phases">
      ${operation.events.map(
        (event) =>
          html`<li data-phase="${event.phase}">
            <time>${preciseTime(event.at)}</time> ${event.phase}
            <span class="elapsed">+${sinceFirst(operation, event.at)} ms</span>
          </li>`,
      )}
    </ol>
    ${finished ? '' : html`<p><a href="/console/operations/${operation.id}">Reload</a> (the page refreshes itself with JavaScript on)</p>`}
  </section>`;
}

/** One operation: what was asked, by whom, and {@link operationSection}. */
export function operationPage(operation: OperationRecord, session: ConsoleSession): SafeHtml {
  return layout(
    `Operation ${operation.id}`,
    html`<dl id="request">
        <dt>Tenant</dt>
        <dd><a href="/console/tenants/${operation.tenant}">${operation.tenant}</a></dd>
        <dt>What</dt>
        <dd>${describe(operation)}</dd>
        <dt>Requested</dt>
        <dd>${when(operation.createdAt)} by ${operation.requestedBy}</dd>
      </dl>
      ${operationSection(operation)}`,
    session,
  );
}
