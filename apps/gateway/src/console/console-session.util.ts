import { createHmac, createSecretKey, hkdfSync, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';

/** The console's session cookie. */
export const SESSION_COOKIE = 'ps_console';

/** HKDF `info` of the session key: a new version of the format gets another key. */
const KEY_INFO = 'polystore console session v1';
const VERSION = 'v1';
const NONCE_BYTES = 16;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** A verified console session. */
export interface ConsoleSession {
  /** The session's random nonce (base64url): names it in the audit, keys its CSRF token. */
  readonly nonce: string;
  /** Unix seconds after which it is no session. */
  readonly expiresAt: number;
  /** What its forms must send back as `_csrf` (or `X-CSRF-Token`). */
  readonly csrfToken: string;
}

/** A session just issued: the cookie's value and the session it stands for. */
export interface IssuedSession {
  readonly cookie: string;
  readonly session: ConsoleSession;
}

/**
 * Stateless console sessions: `v1.<expires unix s>.<nonce>.<mac>`, the MAC an HMAC-SHA256 of
 * `v1.<expires>.<nonce>` under a key derived (HKDF-SHA256) from the admin token. Any replica
 * verifies a session without shared state; rotating the admin token ends every session. A
 * session's CSRF token is base64url(HMAC(key, `csrf:<nonce>`)): bound to the session, not
 * guessable without the key. Nothing here is stored.
 */
export class ConsoleSessions {
  private readonly key: KeyObject;

  constructor(
    adminToken: string,
    readonly ttlSeconds: number,
    private readonly now: () => number = Date.now,
  ) {
    this.key = createSecretKey(Buffer.from(hkdfSync('sha256', adminToken, Buffer.alloc(0), KEY_INFO, 32)));
  }

  /** A new session that expires `ttlSeconds` from now. */
  issue(): IssuedSession {
    const expiresAt = Math.floor(this.now() / 1_000) + this.ttlSeconds;
    const nonce = randomBytes(NONCE_BYTES).toString('base64url');
    const payload = `${VERSION}.${expiresAt}.${nonce}`;
    return { cookie: `${payload}.${this.mac(payload)}`, session: this.sessionOf(nonce, expiresAt) };
  }

  /** The session `value` stands for; null when it is malformed, expired, or not signed with this key. */
  verify(value: string | undefined): ConsoleSession | null {
    if (!value || value.length > 200) return null;
    const parts = value.split('.');
    if (parts.length !== 4) return null;
    const [version, expires, nonce, mac] = parts as [string, string, string, string];
    if (version !== VERSION || !/^\d{1,12}$/.test(expires) || !BASE64URL.test(nonce) || !BASE64URL.test(mac))
      return null;
    if (!sameBytes(mac, this.mac(`${version}.${expires}.${nonce}`))) return null;
    const expiresAt = Number(expires);
    if (expiresAt * 1_000 <= this.now()) return null;
    return this.sessionOf(nonce, expiresAt);
  }

  /** Whether `presented` is the CSRF token of `session` (constant time). */
  csrfMatches(session: ConsoleSession, presented: unknown): boolean {
    return typeof presented === 'string' && BASE64URL.test(presented) && sameBytes(presented, session.csrfToken);
  }

  private sessionOf(nonce: string, expiresAt: number): ConsoleSession {
    return { nonce, expiresAt, csrfToken: this.mac(`csrf:${nonce}`) };
  }

  private mac(data: string): string {
    return createHmac('sha256', this.key).update(data).digest('base64url');
  }
}

function sameBytes(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** The value of cookie `name` in a `Cookie` header, if any. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** `Set-Cookie` of a session: only the console's paths, never readable by scripts or sent cross-site. */
export function sessionCookie(value: string, maxAgeSeconds: number): string {
  return `${SESSION_COOKIE}=${value}; Path=/console; HttpOnly; Secure; SameSite=Strict; Max-Age=${maxAgeSeconds}`;
}

/** `Set-Cookie` that clears the session cookie. */
export function clearedSessionCookie(): string {
  return sessionCookie('', 0);
}
