import { STORE_NAMES, type PlacementView, type TenantPage, type TenantView } from '#polystore/catalog';
import type { ConsoleSession } from '../console-session.util.js';
import { html, type SafeHtml } from '../html.util.js';
import type { ConsoleHealth } from '../store-health.service.js';
import type { TenantsExtraColumns } from './tenant-insights.view.js';
import { layout } from './layout.view.js';

/** `host:port` of a placement's server (its id without the scheme: never a user or password). */
export function hostPort(placement: PlacementView): string {
  return placement.server.replace(/^[a-z]+:\/\//, '');
}

function placementCell(placement: PlacementView | undefined, health: ConsoleHealth): SafeHtml {
  if (!placement) return html`<td class="placement">—</td>`;
  const word = health.placement(placement);
  return html`<td class="placement" data-store="${placement.store}">
    <span class="kind">${placement.kind}</span> <span class="server">${hostPort(placement)}</span>
    <span class="health ${word}" data-health="${word}">${word}</span>
  </td>`;
}

function tenantRow(tenant: TenantView, health: ConsoleHealth, extra?: TenantsExtraColumns): SafeHtml {
  return html`<tr data-slug="${tenant.slug}">
    <td><a href="/console/tenants/${tenant.slug}">${tenant.slug}</a></td>
    <td>${tenant.name}</td>
    <td class="status ${tenant.status}">${tenant.status}</td>
    ${STORE_NAMES.map((store) =>
      placementCell(
        tenant.placements.find((p) => p.store === store),
        health,
      ),
    )}
    ${extra ? extra.cells(tenant.slug) : ''}
  </tr> `;
}

/** The tenants page: the search form, a page of tenants with their placements, the link to the next page. */
export function tenantsPage(
  page: TenantPage,
  q: string | undefined,
  health: ConsoleHealth,
  session: ConsoleSession,
  /** Migration versions and recent error rate (`tenant-insights.view.ts`); without them, no columns. */
  extra?: TenantsExtraColumns,
): SafeHtml {
  const next = page.next
    ? html`<p>
        <a
          id="next"
          href="/console/tenants?${new URLSearchParams({ ...(q ? { q } : {}), after: page.next }).toString()}"
          >Next page</a
        >
      </p>`
    : html``;
  return layout(
    'Tenants',
    html`<form method="get" action="/console/tenants" class="search" role="search">
        <label for="q">Slug or name contains</label>
        <input id="q" name="q" type="search" value="${q ?? ''}" maxlength="100" />
        <button id="search" type="submit">Search</button>
      </form>
      <table id="tenants">
        <thead>
          <tr>
            <th>Slug</th>
            <th>Name</th>
            <th>Status</th>
            ${STORE_NAMES.map((store) => html`<th>${store}</th>`)} ${extra ? extra.headers : ''}
          </tr>
        </thead>
        <tbody>
          ${page.tenants.map((tenant) => tenantRow(tenant, health, extra))}
        </tbody>
      </table>
      ${page.tenants.length === 0 ? html`<p id="empty">No tenant matches.</p>` : ''} ${next}`,
    session,
  );
}
