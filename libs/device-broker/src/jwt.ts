import { createHash } from 'node:crypto';
import { base32 as Base32 } from '@nats-io/nkeys/lib/base32.js';
import { NKey } from './nkey.js';

const HEADER = Buffer.from(JSON.stringify({ typ: 'JWT', alg: 'ed25519-nkey' })).toString('base64url');

/** The claims every NATS JWT carries; `nats` holds the type-specific part. */
export interface JwtClaims {
  readonly jti?: string;
  readonly iat: number;
  readonly iss: string;
  readonly sub: string;
  readonly name?: string;
  readonly exp?: number;
  readonly nats: Record<string, unknown> & { readonly type: 'operator' | 'account' | 'user'; readonly version: 2 };
}

/**
 * Encodes and signs a NATS JWT (v2, `ed25519-nkey`) with `signer`. The `jti` is the base32
 * SHA-256 of the claims, as the NATS tools compute it.
 */
export function signJwt(claims: Omit<JwtClaims, 'iss' | 'jti'>, signer: NKey): string {
  const unsigned = { ...claims, iss: signer.publicKey };
  const jti = base32(createHash('sha256').update(JSON.stringify(unsigned)).digest());
  const body = Buffer.from(JSON.stringify({ jti, ...unsigned })).toString('base64url');
  const signature = signer.sign(`${HEADER}.${body}`).toString('base64url');
  return `${HEADER}.${body}.${signature}`;
}

/** The claims of a NATS JWT without checking anything (for display and for `verifyJwt`). */
export function decodeJwt(token: string): JwtClaims | null {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  try {
    const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as JwtClaims;
    return typeof claims === 'object' && claims !== null && typeof claims.iss === 'string' ? claims : null;
  } catch {
    return null;
  }
}

/**
 * The claims of `token` when it is a well-formed NATS JWT signed by its `iss`, `iss` is one of
 * `issuers`, and it has not expired at `nowSeconds`; null otherwise.
 */
export function verifyJwt(
  token: string,
  issuers: ReadonlySet<string>,
  nowSeconds = Math.floor(Date.now() / 1000),
): JwtClaims | null {
  if (token.length > 8_192) return null;
  const claims = decodeJwt(token);
  if (!claims || !issuers.has(claims.iss)) return null;
  const [header, body, signature] = token.split('.') as [string, string, string];
  if (header !== HEADER) return null;
  if (!NKey.verify(claims.iss, `${header}.${body}`, Buffer.from(signature, 'base64url'))) return null;
  if (typeof claims.exp === 'number' && claims.exp <= nowSeconds) return null;
  return claims;
}

function base32(data: Buffer): string {
  return Buffer.from(Base32.encode(data)).toString('ascii');
}
