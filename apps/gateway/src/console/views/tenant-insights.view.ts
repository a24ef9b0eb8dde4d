import type { AuditVerdictView, TenantIngestView } from '#polystore/messaging';
import type { ConsoleSession } from '../console-session.util.js';
import { html, type SafeHtml } from '../html.util.js';
import { ERROR_WINDOW_MINUTES, type TenantErrorRate } from '../tenant-error-rates.service.js';
import type { Figure, TenantInsights } from '../tenant-insights.service.js';
import { csrfField, layout } from './layout.view.js';

/** A figure, or `—` whose title says why it is missing. */
export function figure<T>(value: Figure<T>, show: (v: T) => string, name: string): SafeHtml {
  if ('missing' in value)
    return html`<span data-figure="${name}" data-missing="true" class="missing" title="${value.missing}">—</span>`;
  return html`<span data-figure="${name}">${show(value.value)}</span>`;
}

/**
 * `0 readings waiting`, or `12 readings waiting, the oldest 3.4 s old`: the tenant's ingest lag
 * (the stream is one queue for every tenant, so a tenant's lag is how long its oldest reading
 * has waited).
 */
export function ingestText(ingest: TenantIngestView): string {
  const waiting = `${ingest.messages ?? 0} reading${ingest.messages === 1 ? '' : 's'} waiting`;
  return ingest.messages ? `${waiting}, the oldest ${(ingest.lagSeconds ?? 0).toFixed(1)} s old` : waiting;
}

/** `2.0 % (1 of 50)`, or `—` when the tenant made no request in the window. */
export function errorRate(rate: TenantErrorRate | null): SafeHtml {
  if (!rate)
    return html`<span
      data-figure="error-rate"
      data-missing="true"
      class="missing"
      title="no tenant API request on this gateway replica in the last ${ERROR_WINDOW_MINUTES} min"
      >—</span
    >`;
  const percent = ((rate.errors / rate.requests) * 100).toFixed(1);
  return html`<span
    data-figure="error-rate"
    data-requests="${rate.requests}"
    data-errors="${rate.errors}"
    class="${rate.errors > 0 ? 'error' : ''}"
    title="5xx answers of the tenant API on this gateway replica, last ${ERROR_WINDOW_MINUTES} min"
    >${percent} % (${rate.errors} of ${rate.requests})</span
  >`;
}

/** What a verdict says: `ok`, or the reason and the first record that failed. */
export function verdictText(verdict: AuditVerdictView): string {
  if (verdict.valid) return 'ok';
  return `${verdict.reason ?? 'invalid'}${verdict.firstInvalidSeq === null ? '' : ` at record ${verdict.firstInvalidSeq}`}`;
}

/** The "verify audit chain" form (htmx swaps the section with its answer), and the verdict once run. */
export function auditVerifySection(slug: string, session: ConsoleSession, verdict?: AuditVerdictView): SafeHtml {
  const action = `/console/tenants/${slug}/audit/verify`;
  const result = verdict
    ? html`<p
        id="audit-verdict"
        data-valid="${String(verdict.valid)}"
        data-mode="${verdict.mode}"
        data-checked="${verdict.checked}"
        class="${verdict.valid ? 'health ok' : 'error'}"
      >
        ${verdictText(verdict)} <span class="note">(${verdict.mode}: ${verdict.checked} records checked)</span>
      </p>`
    : html``;
  return html`<section id="audit-verify">
    <form
      method="post"
      action="${action}"
      hx-post="${action}"
      hx-target="#audit-verify"
      hx-swap="outerHTML"
      class="filter"
    >
      ${csrfField(session)}
      <label for="audit-mode">Audit chain</label>
      <select id="audit-mode" name="mode">
        <option value="checkpoint">from the last checkpoint</option>
        <option value="full">from the first record</option>
      </select>
      <button id="verify-audit" type="submit">Verify audit chain</button>
    </form>
    ${result}
  </section>`;
}

/** The tenant page's details: devices, recent error rate, each placement's migration, the audit check. */
export function tenantInsightsSection(slug: string, insights: TenantInsights, session: ConsoleSession): SafeHtml {
  const stores = Object.entries(insights.migrations);
  return html`<h2>Details</h2>
    <dl id="insights">
      <dt>Devices</dt>
      <dd>${figure(insights.devices, String, 'devices')}</dd>
      <dt>Ingest backlog</dt>
      <dd>${figure(insights.ingest, ingestText, 'ingest')}</dd>
      <dt>Recent errors</dt>
      <dd>${errorRate(insights.errors)}</dd>
    </dl>
    <table id="migrations">
      <thead>
        <tr>
          <th>Store</th>
          <th>Migration version (newest applied)</th>
        </tr>
      </thead>
      <tbody>
        ${stores.map(
          ([store, migration]) =>
            html`<tr data-store="${store}">
              <td>${store}</td>
              <td>${figure(migration, (name) => name ?? 'none', 'migration')}</td>
            </tr> `,
        )}
      </tbody>
    </table>
    ${'secure' in insights.migrations ? auditVerifySection(slug, session) : html``}`;
}

/** Columns the tenants page adds after the stores' (header cells, and a row's cells). */
export interface TenantsExtraColumns {
  readonly headers: SafeHtml;
  readonly cells: (slug: string) => SafeHtml;
}

/** A migration's version: the timestamp ending its name (TypeORM's order), else the name. */
export function migrationVersion(name: string): string {
  return /(\d{13})$/.exec(name)?.[1] ?? name;
}

/** Each placement's migration version, `—` with the reason where the store did not say (the tenants page's cell). */
export function migrationsFragment(migrations: TenantInsights['migrations']): SafeHtml {
  return html`${Object.entries(migrations).map(([store, migration]) =>
    'missing' in migration
      ? html`<span
          data-store="${store}"
          data-figure="migration"
          data-missing="true"
          class="missing"
          title="${store}: ${migration.missing}"
          >${store} —</span
        > `
      : html`<span data-store="${store}" data-figure="migration" title="${migration.value ?? 'no migration recorded'}"
          >${store} ${migration.value === null ? 'none' : migrationVersion(migration.value)}</span
        > `,
  )}`;
}

/**
 * The tenants page's migration and error columns. Migration versions cost one request per store
 * and tenant, so each row's cell is fetched by htmx once it is on screen
 * (`GET /console/tenants/<slug>/migrations`), not with the page; without JavaScript it stays `—`.
 */
export function tenantsColumns(errorRates: (slug: string) => TenantErrorRate | null): TenantsExtraColumns {
  return {
    headers: html`<th title="Newest migration applied, per placement">Migrations</th>
      <th title="5xx answers of the tenant API on this gateway replica">Errors (${ERROR_WINDOW_MINUTES} min)</th>`,
    cells: (slug) =>
      html`<td
          class="migrations"
          hx-get="/console/tenants/${slug}/migrations"
          hx-trigger="revealed"
          hx-swap="innerHTML"
        >
          <span class="missing" title="loaded when shown (htmx); without JavaScript, see the tenant's page">—</span>
        </td>
        <td class="errors">${errorRate(errorRates(slug))}</td>`,
  };
}

/** The verdict as a page of its own (the form posted without htmx). */
export function auditVerdictPage(slug: string, verdict: AuditVerdictView, session: ConsoleSession): SafeHtml {
  return layout(
    `Audit chain of ${slug}`,
    html`${auditVerifySection(slug, session, verdict)}
      <p><a href="/console/tenants/${slug}">Back to ${slug}</a></p>`,
    session,
  );
}
