import type { HttpResponse } from './http.js';
import { TEST_ADMIN_TOKEN, type TestStack } from './stack.js';

/** How one console request differs from the default (the session of the client, the admin port). */
export interface ConsoleCallOptions {
  /** The session cookie's value to send; null: none. Default: the client's, once logged in. */
  readonly session?: string | null;
  /** Sent as `application/x-www-form-urlencoded`, as the console's forms post. */
  readonly form?: Record<string, string>;
  readonly headers?: Record<string, string>;
  /** Another port (the public one, to see the console refused there). Default: the admin port. */
  readonly port?: number;
}

/** The session cookie's value a `Set-Cookie` of `response` sets, if any. */
export function sessionCookieOf(response: HttpResponse): string | undefined {
  return /ps_console=([^;]+)/.exec((response.headers['set-cookie'] ?? []).join('\n'))?.[1];
}

/** The CSRF token a console page renders in its forms. */
export function csrfOf(page: string): string {
  const token = /name="_csrf" value="([A-Za-z0-9_-]+)"/.exec(page)?.[1];
  if (!token) throw new Error('no CSRF token in the page');
  return token;
}

/**
 * The operations console over plain HTTP, as a browser uses it (docs/console.md): requests to the
 * gateway's admin port with the `Host` a browser sends there, the session cookie once logged in,
 * forms posted url-encoded. The e2e suites of the console share it.
 */
export class ConsoleClient {
  /** The session cookie's value, once {@link login} succeeded. */
  cookie = '';
  /** The session's CSRF token, read from a page after login. */
  csrf = '';

  constructor(private readonly stack: TestStack) {}

  call(method: string, path: string, options: ConsoleCallOptions = {}): Promise<HttpResponse<string>> {
    const session = options.session === undefined ? this.cookie : options.session;
    const port = options.port ?? this.stack.adminPort;
    return this.stack.request<string>({
      method,
      path,
      port,
      host: `127.0.0.1:${port}`,
      headers: {
        ...(session ? { cookie: `ps_console=${session}` } : {}),
        ...(options.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        ...(options.headers ?? {}),
      },
      ...(options.form ? { rawBody: new URLSearchParams(options.form).toString() } : {}),
    });
  }

  /** Logs in with the admin token (a 303 expected), keeps the cookie, and reads the CSRF token from `csrfPage`. */
  async login(csrfPage = '/console/tenants'): Promise<void> {
    const answer = await this.call('POST', '/console/login', { session: null, form: { token: TEST_ADMIN_TOKEN } });
    const cookie = sessionCookieOf(answer);
    if (answer.status !== 303 || !cookie) throw new Error(`console login answered ${answer.status}`);
    this.cookie = cookie;
    this.csrf = csrfOf((await this.call('GET', csrfPage)).text);
  }
}
