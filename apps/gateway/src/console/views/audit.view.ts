import type { AdminAuditRecord } from '#polystore/catalog';
import type { ConsoleSession } from '../console-session.util.js';
import { html, type SafeHtml } from '../html.util.js';
import { layout, when } from './layout.view.js';

/** The newest admin audit rows. */
export function auditPage(rows: readonly AdminAuditRecord[], session: ConsoleSession): SafeHtml {
  return layout(
    'Admin audit',
    html`<table id="audit">
      <thead>
        <tr>
          <th>At</th>
          <th>Actor</th>
          <th>Action</th>
          <th>Target</th>
          <th>Outcome</th>
          <th>Detail</th>
        </tr>
      </thead>
      <tbody>
        ${rows.map(
          (row) =>
            html`<tr data-audit="${row.id}" data-action="${row.action}" data-outcome="${row.outcome}">
              <td>${when(row.at)}</td>
              <td>${row.actor}</td>
              <td>${row.action}</td>
              <td>${row.target ?? ''}</td>
              <td class="outcome">${row.outcome}</td>
              <td><code>${row.detail ? JSON.stringify(row.detail) : ''}</code></td>
            </tr> `,
        )}
      </tbody>
    </table>`,
    session,
  );
}
