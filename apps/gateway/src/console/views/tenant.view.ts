import type { ApiKeyHistoryView, TenantView } from '#polystore/catalog';
import type { ConsoleSession } from '../console-session.util.js';
import { html, type SafeHtml } from '../html.util.js';
import type { SagaDto } from '../../sagas/saga.dto.js';
import { csrfField, layout, when } from './layout.view.js';
import { placementActions } from './operations.view.js';
import type { StoreMoveTargets } from '../move-targets.service.js';
import { hostPort } from './tenants.view.js';
import { sagasTable } from './sagas.view.js';

/** A key's state as shown: revoked, expired, or active. */
export function keyState(key: ApiKeyHistoryView, now = Date.now()): 'active' | 'expired' | 'revoked' {
  if (key.revokedAt) return 'revoked';
  if (key.expiresAt && key.expiresAt.getTime() <= now) return 'expired';
  return 'active';
}

/** One key's row (never its secret or hash), with the revoke form while it is not revoked. */
export function keyRow(slug: string, key: ApiKeyHistoryView, session: ConsoleSession): SafeHtml {
  const state = keyState(key);
  const action =
    state === 'revoked'
      ? html``
      : html`<form method="post" action="/console/tenants/${slug}/keys/${key.id}/revoke">
          ${csrfField(session)}<button
            type="submit"
            data-revoke="${key.id}"
            hx-post="/console/tenants/${slug}/keys/${key.id}/revoke"
            hx-target="closest tr"
            hx-swap="outerHTML"
            hx-confirm="Revoke key ${key.name}?"
          >
            Revoke
          </button>
        </form>`;
  return html`<tr data-key="${key.id}" data-state="${state}">
    <td><code>${key.id}</code></td>
    <td>${key.name}</td>
    <td>${key.scopes.join(', ')}</td>
    <td>${when(key.createdAt)}</td>
    <td>${when(key.expiresAt)}</td>
    <td class="state ${state}">${state}</td>
    <td>${action}</td>
  </tr> `;
}

/** A tenant: its placements, its API keys, its last sagas. */
export function tenantPage(
  tenant: TenantView,
  keys: readonly ApiKeyHistoryView[],
  sagas: readonly SagaDto[],
  session: ConsoleSession,
  /** Each store's move targets: with them, each placement has its move and migrate forms (`operations.view.ts`). */
  moveTargets?: Readonly<Record<string, StoreMoveTargets>>,
  /** Devices, recent errors, migration versions, the audit check (`tenant-insights.view.ts`). */
  details?: SafeHtml,
): SafeHtml {
  return layout(
    `Tenant ${tenant.slug}`,
    html`<dl id="tenant">
        <dt>Name</dt>
        <dd>${tenant.name}</dd>
        <dt>Status</dt>
        <dd class="status ${tenant.status}">${tenant.status}</dd>
        <dt>Id</dt>
        <dd><code>${tenant.id}</code></dd>
        <dt>Created</dt>
        <dd>${when(tenant.createdAt)}</dd>
      </dl>
      ${details ?? ''}
      <h2>Placements</h2>
      <table id="placements">
        <thead>
          <tr>
            <th>Store</th>
            <th>Kind</th>
            <th>Server</th>
            <th>Schema or database</th>
            ${moveTargets ? html`<th>Move or migrate</th>` : ''}
          </tr>
        </thead>
        <tbody>
          ${tenant.placements.map(
            (p) =>
              html`<tr data-store="${p.store}">
                <td>${p.store}</td>
                <td>${p.kind}</td>
                <td>${hostPort(p)}</td>
                <td>${p.schema ?? p.database}</td>
                ${moveTargets ? html`<td>${placementActions(tenant.slug, p, moveTargets[p.store], session)}</td>` : ''}
              </tr> `,
          )}
        </tbody>
      </table>
      <h2>API keys</h2>
      <table id="keys">
        <thead>
          <tr>
            <th>Id</th>
            <th>Name</th>
            <th>Scopes</th>
            <th>Created</th>
            <th>Expires</th>
            <th>State</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          ${keys.map((key) => keyRow(tenant.slug, key, session))}
        </tbody>
      </table>
      <h2>Last sagas</h2>
      ${sagasTable(sagas)}`,
    session,
  );
}
