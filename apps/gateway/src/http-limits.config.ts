import { isIP } from 'node:net';
import { intVar } from '#polystore/platform';
import { z } from 'zod';

/** An IP address, or a CIDR range (`10.0.0.0/8`, `fd00::/8`). */
function isAddressOrRange(entry: string): boolean {
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  const bits = Number(prefix);
  return /^\d{1,3}$/.test(prefix) && bits <= (family === 4 ? 32 : 128);
}

/**
 * The gateway's abuse controls and HTTP timeouts (spread into its config schema). How they act:
 * apps/gateway/README.md ("Abuse controls").
 */
export const httpLimitsShape = {
  /** Requests per second one API key may make (then 429 `KEY_RATE_LIMITED`); 0 = no limit. */
  RATE_LIMIT_PER_KEY: intVar(1_000, 0, 1_000_000),
  /** Requests per second one tenant may make, all its keys together (429 `TENANT_RATE_LIMITED`); 0 = no limit. */
  RATE_LIMIT_PER_TENANT: intVar(2_000, 0, 1_000_000),
  /**
   * Failed authentications (401) one client address may cause per minute; past it, every tenant
   * request from that address is answered 429 `TOO_MANY_AUTH_FAILURES`, without any catalog
   * lookup, until the minute is over. 0 = no limit.
   */
  AUTH_FAILURE_LIMIT_PER_MIN: intVar(30, 0, 1_000_000),
  /**
   * Redis (`redis://` or `rediss://`) holding the counters of the limits above, shared by every
   * replica; unset, each process counts in memory on its own.
   */
  REDIS_URL: z
    .string()
    .trim()
    .refine((value) => {
      try {
        return ['redis:', 'rediss:'].includes(new URL(value).protocol);
      } catch {
        return false;
      }
    }, 'must be a URL with protocol redis:// or rediss://')
    .optional(),
  /**
   * Reverse proxies whose `X-Forwarded-For` is believed (comma-separated addresses or CIDR
   * ranges), so the per-address limit sees the client, not the proxy; unset = none.
   */
  TRUST_PROXY: z
    .string()
    .trim()
    .transform((v) =>
      v
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean),
    )
    .refine((list) => list.length > 0 && list.every(isAddressOrRange), {
      message: 'must be IP addresses or CIDR ranges, comma-separated',
    })
    .optional(),
  /** Time a client has to send a whole request, headers and body (then 408); 0 = no limit. */
  HTTP_REQUEST_TIMEOUT_MS: intVar(30_000, 0, 600_000),
  /**
   * A connection without any traffic this long is closed, idle or waiting on an answer; above the
   * longest request (PROVISION_TIMEOUT_MS). 0 = never.
   */
  HTTP_CONNECTION_TIMEOUT_MS: intVar(120_000, 0, 3_600_000),
  /** How long an idle keep-alive connection is kept open (above a load balancer's idle timeout). */
  HTTP_KEEP_ALIVE_TIMEOUT_MS: intVar(72_000, 1, 3_600_000),
};

/** HTTP_CONNECTION_TIMEOUT_MS must not cut a request the gateway is still allowed to be working on. */
export function checkConnectionTimeout(
  config: { HTTP_CONNECTION_TIMEOUT_MS: number; PROVISION_TIMEOUT_MS: number },
  ctx: z.RefinementCtx,
): void {
  const timeout = config.HTTP_CONNECTION_TIMEOUT_MS;
  if (timeout !== 0 && timeout <= config.PROVISION_TIMEOUT_MS)
    ctx.addIssue({
      code: 'custom',
      path: ['HTTP_CONNECTION_TIMEOUT_MS'],
      message: 'must exceed PROVISION_TIMEOUT_MS (the longest request), or be 0',
    });
}
