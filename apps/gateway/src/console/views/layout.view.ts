import type { ConsoleSession } from '../console-session.util.js';
import { html, raw, type SafeHtml } from '../html.util.js';

/**
 * htmx settings: no inline indicator styles (the CSP forbids them), no eval, and 4xx answers
 * swapped like 2xx ones (an action's error page replaces the page instead of being dropped).
 */
const HTMX_CONFIG = JSON.stringify({
  includeIndicatorStyles: false,
  allowEval: false,
  allowScriptTags: false,
  responseHandling: [
    { code: '204', swap: false },
    { code: '[23]..', swap: true },
    { code: '4..', swap: true, error: true },
    { code: '...', swap: false, error: true },
  ],
});

const CSRF_TOKEN = /^[A-Za-z0-9_-]+$/;

/** `hx-headers` of the body: htmx sends the session's CSRF token with every request it makes. */
function hxHeaders(csrfToken: string): SafeHtml {
  // The token is base64url (checked), so it needs no escaping inside the JSON or the attribute.
  if (!CSRF_TOKEN.test(csrfToken)) throw new Error('CSRF token is not base64url');
  return raw(` hx-headers='{"X-CSRF-Token": "${csrfToken}"}'`);
}

/** The hidden `_csrf` field of a session's forms. */
export function csrfField(session: ConsoleSession): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${session.csrfToken}" />`;
}

/** A whole console page: stylesheet and htmx from /console/assets, the navigation when logged in. */
export function layout(title: string, body: SafeHtml, session?: ConsoleSession): SafeHtml {
  const nav = session
    ? html`<nav>
        <a href="/console/overview">Overview</a>
        <a href="/console/tenants">Tenants</a>
        <a href="/console/sagas">Sagas</a>
        <a href="/console/audit">Audit</a>
        <a href="/console/servers">Servers</a>
        <a href="/console/jobs">Jobs</a>
        <a href="/console/operations">Operations</a>
        <form method="post" action="/console/logout" class="logout">
          ${csrfField(session)}<button id="logout" type="submit">Log out</button>
        </form>
      </nav>`
    : html``;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="htmx-config" content="${HTMX_CONFIG}">
<title>${title} · Polystore console</title>
<link rel="stylesheet" href="/console/assets/console.css">
<script src="/console/assets/htmx.min.js"></script>
</head>
<body${session ? hxHeaders(session.csrfToken) : html``}>
<header><strong>Polystore console</strong> ${nav}</header>
<main id="main">
<h1>${title}</h1>
${body}
</main>
</body>
</html>
`;
}

/** A date as ISO 8601 (UTC), or a dash. */
export function when(date: Date | string | null | undefined): string {
  if (date === null || date === undefined) return '—';
  return (typeof date === 'string' ? new Date(date) : date).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
