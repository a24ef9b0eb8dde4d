import { html, type SafeHtml } from '../html.util.js';
import { layout } from './layout.view.js';

/** The login form; `wrong` adds the `#error` line of a refused attempt. */
export function loginPage(wrong = false): SafeHtml {
  return layout(
    'Log in',
    html`${wrong ? html`<p id="error" class="error">wrong token</p>` : ''}
      <form method="post" action="/console/login" class="login">
        <label for="token">Admin token</label>
        <input id="token" name="token" type="password" autocomplete="current-password" required autofocus />
        <button id="login" type="submit">Log in</button>
      </form>`,
  );
}
