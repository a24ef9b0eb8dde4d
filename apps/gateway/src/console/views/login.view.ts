import { html, type SafeHtml } from '../html.util.js';
import { layout } from './layout.view.js';

const REFUSALS = {
  wrong: 'wrong token',
  throttled: 'too many failed logins from this address: try again later',
} as const;

/** The login form; after a refused attempt, its `#error` line (a wrong token, or too many failures). */
export function loginPage(refused?: keyof typeof REFUSALS): SafeHtml {
  return layout(
    'Log in',
    html`${refused ? html`<p id="error" class="error">${REFUSALS[refused]}</p>` : ''}
      <form method="post" action="/console/login" class="login">
        <label for="token">Admin token</label>
        <input id="token" name="token" type="password" autocomplete="current-password" required autofocus />
        <button id="login" type="submit">Log in</button>
      </form>`,
  );
}
