import { CodedError, ErrorKind } from './coded-error.js';

/** The per-tenant quotas (gateway: `QUOTA_*`, `/admin/tenants/:slug/quotas`). */
export const QUOTA_NAMES = ['devices', 'customers', 'storage'] as const;
export type QuotaName = (typeof QUOTA_NAMES)[number];

/** Code of a write refused because the tenant is at (or over) one of its quotas. */
export const QUOTA_EXCEEDED = 'QUOTA_EXCEEDED';

/**
 * `QUOTA_EXCEEDED` (429) naming the quota, its limit and the usage that reached it. Waiting does
 * not lift a quota (deleting data or a raised limit does), so it carries no time to wait:
 * `retryAfterSeconds: null` tells the HTTP layer to send no `Retry-After`.
 */
export function quotaExceeded(quota: QuotaName, limit: number, used: number, note = ''): CodedError {
  const unit = quota === 'storage' ? ' bytes' : '';
  return new CodedError(
    QUOTA_EXCEEDED,
    ErrorKind.RESOURCE_EXHAUSTED,
    `the tenant's ${quota} quota is reached: ${used}${unit} used of ${limit}${unit}${note}; delete some or ask for a higher quota`,
    { quota: { name: quota, limit, used }, retryAfterSeconds: null },
  );
}
