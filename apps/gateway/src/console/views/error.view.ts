import type { ConsoleSession } from '../console-session.util.js';
import { html, type SafeHtml } from '../html.util.js';
import { layout } from './layout.view.js';

/** An error page: the status, the error's code and message (never internals). */
export function errorPage(status: number, code: string, message: string, session?: ConsoleSession): SafeHtml {
  return layout(
    `Error ${status}`,
    html`<p id="error" class="error" data-code="${code}"><code>${code}</code>: ${message}</p>
      ${status === 401 ? html`<p><a id="login-link" href="/console/login">Log in</a></p>` : html`<p><a href="/console/tenants">Back to the tenants</a></p>`}`,
    session,
  );
}
