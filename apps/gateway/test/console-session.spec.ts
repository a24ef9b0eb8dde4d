import { describe, expect, it } from '@jest/globals';
import {
  clearedSessionCookie,
  ConsoleSessions,
  cookieValue,
  sessionCookie,
} from '../src/console/console-session.util.js';

const TOKEN = 'admin-token-0123456789abcdef';
const T0 = Date.UTC(2026, 0, 1);

/** Sessions on a clock the test moves. */
function sessionsAt(token = TOKEN, ttlSeconds = 3_600) {
  const clock = { now: T0 };
  return { clock, sessions: new ConsoleSessions(token, ttlSeconds, () => clock.now) };
}

/** `cookie` with the character at `index` replaced by another valid one. */
function flip(cookie: string, index: number): string {
  const c = cookie[index]!;
  return cookie.slice(0, index) + (c === 'A' ? 'B' : 'A') + cookie.slice(index + 1);
}

describe('console session - stateless signed cookie', () => {
  it('console session - an issued cookie verifies to its session (nonce, expiry, CSRF token) until it expires', () => {
    const { sessions, clock } = sessionsAt();
    const { cookie, session } = sessions.issue();
    expect(cookie).toMatch(/^v1\.\d+\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
    expect(session.expiresAt).toBe(T0 / 1_000 + 3_600);
    expect(sessions.verify(cookie)).toEqual(session);
    clock.now = T0 + 3_599_000;
    expect(sessions.verify(cookie)).toEqual(session);
  });

  it('console session - an expired cookie is no session', () => {
    const { sessions, clock } = sessionsAt();
    const { cookie } = sessions.issue();
    clock.now = T0 + 3_600_000;
    expect(sessions.verify(cookie)).toBeNull();
    clock.now = T0 + 86_400_000;
    expect(sessions.verify(cookie)).toBeNull();
  });

  it('console session - a tampered cookie is no session: expiry pushed back, nonce or MAC changed, parts added or removed', () => {
    const { sessions } = sessionsAt();
    const { cookie } = sessions.issue();
    const [version, expires, nonce, mac] = cookie.split('.') as [string, string, string, string];
    const tampered = [
      `${version}.${Number(expires) + 86_400}.${nonce}.${mac}`,
      flip(cookie, version.length + expires.length + 2),
      flip(cookie, cookie.length - 5),
      `v2.${expires}.${nonce}.${mac}`,
      `${version}.${expires}.${nonce}`,
      `${cookie}.x`,
      `${version}.${expires}.${nonce}.${mac.slice(0, -1)}`,
      `${version}.${expires}.${nonce}.`,
      '',
      'v1.abc.def.ghi',
    ];
    for (const value of tampered) expect([value, sessions.verify(value)]).toEqual([value, null]);
    expect(sessions.verify(undefined)).toBeNull();
  });

  it('console session - a cookie signed under another admin token is no session, and its CSRF token does not pass', () => {
    const { sessions } = sessionsAt();
    const { sessions: other } = sessionsAt('another-admin-token-987654321');
    const foreign = other.issue();
    expect(sessions.verify(foreign.cookie)).toBeNull();
    const own = sessions.issue().session;
    expect(sessions.csrfMatches(own, foreign.session.csrfToken)).toBe(false);
  });

  it("console session - the CSRF token is the session's own: another session's, a missing or a malformed one is refused", () => {
    const { sessions } = sessionsAt();
    const a = sessions.issue().session;
    const b = sessions.issue().session;
    expect(a.nonce).not.toBe(b.nonce);
    expect(sessions.csrfMatches(a, a.csrfToken)).toBe(true);
    expect(sessions.csrfMatches(a, b.csrfToken)).toBe(false);
    for (const presented of [undefined, '', [a.csrfToken], `${a.csrfToken}=`, a.csrfToken.slice(1), 42])
      expect(sessions.csrfMatches(a, presented)).toBe(false);
  });

  it('console session - the cookie: HttpOnly, Secure, SameSite=Strict, Path=/console, Max-Age; cleared with Max-Age=0; read back from a Cookie header', () => {
    expect(sessionCookie('v1.1.n.m', 28_800)).toBe(
      'ps_console=v1.1.n.m; Path=/console; HttpOnly; Secure; SameSite=Strict; Max-Age=28800',
    );
    expect(clearedSessionCookie()).toBe('ps_console=; Path=/console; HttpOnly; Secure; SameSite=Strict; Max-Age=0');
    expect(cookieValue('a=1; ps_console=v1.2.n.m; b=2', 'ps_console')).toBe('v1.2.n.m');
    expect(cookieValue('xps_console=1', 'ps_console')).toBeUndefined();
    expect(cookieValue(undefined, 'ps_console')).toBeUndefined();
  });
});
