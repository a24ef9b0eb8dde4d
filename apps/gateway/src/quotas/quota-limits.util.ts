import type { QuotaOverrides } from '#polystore/catalog';
import type { QuotaName } from '#polystore/platform';

/** One quota as it applies to a tenant: its limit (0 = unlimited) and where it comes from. */
export interface EffectiveQuota {
  readonly limit: number;
  /** `tenant`: set for this tenant (admin API, CLI); `default`: the deployment's `QUOTA_*`. */
  readonly source: 'tenant' | 'default';
}

export type EffectiveQuotas = Readonly<Record<QuotaName, EffectiveQuota>>;

/** The deployment's defaults (`QUOTA_DEVICES`, `QUOTA_CUSTOMERS`, `QUOTA_STORAGE_BYTES`). */
export interface QuotaDefaults {
  readonly devices: number;
  readonly customers: number;
  readonly storage: number;
}

/** A tenant's own limit where it has one, the default otherwise. */
export function effectiveQuotas(defaults: QuotaDefaults, overrides: QuotaOverrides): EffectiveQuotas {
  const pick = (own: number | null, fallback: number): EffectiveQuota =>
    own === null ? { limit: fallback, source: 'default' } : { limit: own, source: 'tenant' };
  return {
    devices: pick(overrides.devices, defaults.devices),
    customers: pick(overrides.customers, defaults.customers),
    storage: pick(overrides.storageBytes, defaults.storage),
  };
}

/** True when one more (device, customer) or another write (storage) is refused: a limit is set and `used` reached it. */
export function quotaReached(limit: number, used: number): boolean {
  return limit > 0 && used >= limit;
}

/** True when a measurement taken at `measuredAt` is older than `refreshMs` at `now`. */
export function isStale(measuredAt: Date, refreshMs: number, now = Date.now()): boolean {
  return now - measuredAt.getTime() >= refreshMs;
}
