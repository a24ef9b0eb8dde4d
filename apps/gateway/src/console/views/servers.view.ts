import type { StorePoolView, TelemetryStreamView } from '#polystore/messaging';
import type { ConsoleSession } from '../console-session.util.js';
import { html, type SafeHtml } from '../html.util.js';
import type { StorePools } from '../store-pools.service.js';
import { layout, when } from './layout.view.js';

/** How a store reaches a server: one shared pool, pools of the tenants' own, or both. */
export function poolKind(pool: StorePoolView): string {
  const shared = pool.sharedDatabases.length > 0;
  const own = pool.ownPools > 0;
  return shared && own ? 'shared + own pools' : shared ? 'shared' : own ? 'own pools' : 'none open';
}

/** A figure against its limit: `12 / 40`, or `12 / —` without one. */
function against(value: number, limit: number | null): string {
  return `${value} / ${limit === null ? '—' : limit}`;
}

/** Waits now and refusals since start: a pool that made work wait or refused it is flagged. */
function poolRow(store: string, pool: StorePoolView): SafeHtml {
  const mark = pool.waiting > 0 || pool.busyRejections > 0 ? 'strained' : '';
  const id = `${store}:${pool.server}`;
  return html`<tr data-server="${id}" data-store="${store}" data-state="ok" class="${mark}">
    <td>${store}</td>
    <td class="server">${pool.server}</td>
    <td>${pool.dialect}</td>
    <td class="kind">${poolKind(pool)}</td>
    <td>
      ${pool.sharedDatabases.length > 0 ? pool.sharedDatabases.join(', ') : '—'}${pool.ownPools > 0 ? html` <span class="own">(+${pool.ownPools} own)</span>` : ''}
    </td>
    <td data-figure="in-use">${pool.inUse}</td>
    <td data-figure="idle">${pool.idle}</td>
    <td data-figure="waiting">${pool.waiting}</td>
    <td data-figure="budget">${pool.connectionBudget}</td>
    <td data-figure="max-connections">${pool.serverConnections ?? '—'}</td>
    <td data-figure="units">${pool.units}</td>
    <td data-figure="busy">${pool.busyRejections}</td>
    <td data-figure="evictions">${pool.evictions}</td>
    <td class="health ok">ok</td>
  </tr> `;
}

/** The rows of one store: one per server, one that says it has none open yet, or one that says `down`. */
function storeRows(report: StorePools): SafeHtml {
  if (report.state === 'down') {
    const id = `${report.store}:${report.defaultServer}`;
    return html`<tr data-server="${id}" data-store="${report.store}" data-state="down">
      <td>${report.store}</td>
      <td class="server">${report.defaultServer || '—'}</td>
      <td colspan="11">no answer: <code class="code">${report.code}</code> (server shown: where new tenants go)</td>
      <td class="health down">down</td>
    </tr> `;
  }
  if (report.pools.length === 0)
    return html`<tr data-store="${report.store}" data-state="ok">
      <td>${report.store}</td>
      <td colspan="12">no database connection opened yet</td>
      <td class="health ok">ok</td>
    </tr> `;
  return html`${report.pools.map((pool) => poolRow(report.store, pool))}`;
}

function streamSection(stream: TelemetryStreamView | undefined, edgeRuns: boolean): SafeHtml {
  if (!stream)
    return html`<p id="stream-none">
      ${edgeRuns ? 'The edge store reports no telemetry stream (no device broker, or not read yet).' : 'No edge store answered.'}
    </p>`;
  return html`<table id="stream">
    <thead>
      <tr>
        <th>Stream</th>
        <th>Messages / limit</th>
        <th>Bytes / limit</th>
        <th>Fill</th>
        <th>Checked</th>
      </tr>
    </thead>
    <tbody>
      <tr data-stream="telemetry" class="${stream.fillRatio >= 0.8 ? 'strained' : ''}">
        <td>telemetry (edge)</td>
        <td data-figure="messages">${against(stream.messages, stream.maxMessages)}</td>
        <td data-figure="bytes">${against(stream.bytes, stream.maxBytes)}</td>
        <td data-figure="fill">${stream.maxBytes === null ? '—' : `${(stream.fillRatio * 100).toFixed(1)}%`}</td>
        <td>${when(stream.checkedAt)}</td>
      </tr>
    </tbody>
  </table>`;
}

/**
 * The servers page: per store and database server, the pools as the store's router counts them
 * (each figure from the instance that answered: every replica has pools of its own), then the
 * edge store's telemetry stream against its limits.
 */
export function serversPage(reports: readonly StorePools[], session: ConsoleSession): SafeHtml {
  const edge = reports.find((r) => r.store === 'edge');
  return layout(
    'Servers',
    html`<p>Figures of the store instance that answered; each replica keeps pools of its own.</p>
      <table id="servers">
        <thead>
          <tr>
            <th>Store</th>
            <th>Server</th>
            <th>Engine</th>
            <th>Pools</th>
            <th>Databases</th>
            <th>In use</th>
            <th>Idle</th>
            <th>Waiting</th>
            <th>Budget</th>
            <th title="max_connections (PostgreSQL: less superuser_reserved_connections), as probed for the budget">
              Server max
            </th>
            <th>Units served</th>
            <th>Busy refusals</th>
            <th>Evictions</th>
            <th>Health</th>
          </tr>
        </thead>
        <tbody>
          ${reports.map(storeRows)}
        </tbody>
      </table>
      <h2>Telemetry stream</h2>
      ${streamSection(edge?.state === 'ok' ? edge.stream : undefined, edge?.state === 'ok')}`,
    session,
  );
}
