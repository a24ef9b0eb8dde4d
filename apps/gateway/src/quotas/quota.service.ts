import { Inject, Injectable, Logger } from '@nestjs/common';
import { TenantQuotaService, type StorageMeasurement, type StoreName } from '#polystore/catalog';
import { MessageClient, type TenantUsageView } from '#polystore/messaging';
import { quotaExceeded } from '#polystore/platform';
import { newRequestContext, RequestContextStore, type TenantSlug } from '#polystore/tenancy';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config.js';
import type { TenantIdentity } from '../context/current-tenant.service.js';
import { StoreDirectory } from '../stores/store-directory.js';
import { AdmissionGate } from './admission-gate.js';
import { effectiveQuotas, isStale, quotaReached, type EffectiveQuotas } from './quota-limits.util.js';

/** What counts against a counted quota: the store that holds it and its table there. */
const COUNTED: Readonly<Record<'devices' | 'customers', { store: StoreName; table: string }>> = {
  devices: { store: 'reliable', table: 'devices' },
  customers: { store: 'secure', table: 'customers' },
};

const NOTHING_TO_RELEASE = (): void => undefined;

/** Time one storage measurement may take (every store asked at once). */
const MEASURE_TIMEOUT_MS = 10_000;
/** After a failed measurement, how long this process waits before trying again. */
const MEASURE_BACKOFF_MS = 5_000;

/** One quota with its usage, as `GET /v1/quotas` shows it. */
export interface QuotaUsage {
  readonly limit: number;
  readonly source: 'tenant' | 'default';
  /** null: the store that holds it is not part of this deployment, or did not answer. */
  readonly used: number | null;
}

export interface QuotaUsageView {
  readonly devices: QuotaUsage;
  readonly customers: QuotaUsage;
  readonly storage: QuotaUsage & {
    readonly measuredAt: string | null;
    readonly byStore: Readonly<Record<string, number | null>>;
  };
}

/**
 * Per-tenant quotas in the gateway: the limits that apply (the tenant's own, else `QUOTA_*`), the
 * checks before a write, and the usage view. Devices are admitted through an {@link AdmissionGate}
 * before their registration saga starts; customers are counted by the secure store in the
 * insert's transaction (the gateway sends the limit); storage is compared with the last
 * measurement, taken again in the background once older than `QUOTA_STORAGE_REFRESH_MS`.
 */
@Injectable()
export class QuotaService {
  private readonly logger = new Logger(QuotaService.name);
  private readonly devicesGate = new AdmissionGate();
  /** Last measurement known to this process, per tenant id. */
  private readonly measured = new Map<string, StorageMeasurement>();
  private readonly measuring = new Map<string, Promise<StorageMeasurement | null>>();
  private readonly failedAt = new Map<string, number>();

  constructor(
    private readonly quotas: TenantQuotaService,
    private readonly messages: MessageClient,
    private readonly stores: StoreDirectory,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  /** The limits that apply to the tenant. */
  async limits(slug: TenantSlug): Promise<EffectiveQuotas> {
    return effectiveQuotas(
      {
        devices: this.config.QUOTA_DEVICES,
        customers: this.config.QUOTA_CUSTOMERS,
        storage: this.config.QUOTA_STORAGE_BYTES,
      },
      await this.quotas.overrides(slug),
    );
  }

  /**
   * Before a customer is created: `QUOTA_EXCEEDED` (storage) when the tenant's data reached its
   * storage quota; else the customers limit for the secure store to enforce (undefined: none).
   */
  async customersLimit(tenant: TenantIdentity): Promise<number | undefined> {
    const limits = await this.limits(tenant.slug);
    await this.assertStorageAllows(tenant, limits);
    return limits.customers.limit > 0 ? limits.customers.limit : undefined;
  }

  /**
   * Before a device registration saga starts: `QUOTA_EXCEEDED` (storage, or devices when the
   * registered devices, pending ones included, plus the registrations this process has in flight
   * reached the limit). `isRepeat` (asked only when a quota applies) says the request repeats a
   * registration already started (same `Idempotency-Key`): it joins it, unchecked. Resolves with
   * the function to call once the registry counts the new device (or never will).
   */
  async admitDevice(tenant: TenantIdentity, isRepeat: () => Promise<boolean>): Promise<() => void> {
    const limits = await this.limits(tenant.slug);
    const limit = limits.devices.limit;
    if ((limit === 0 && limits.storage.limit === 0) || (await isRepeat())) return NOTHING_TO_RELEASE;
    await this.assertStorageAllows(tenant, limits);
    if (limit === 0) return NOTHING_TO_RELEASE;
    // Time left for the saga itself once admitted (its steps take ~0.2-1 s).
    const deadline = Date.now() + Math.max(0, RequestContextStore.remainingMs() - 1_500);
    const admission = await this.devicesGate.admit(tenant.id, limit, () => this.count('devices'), deadline);
    if (admission.admitted) return admission.release;
    const note = admission.inFlight > 0 ? ` (and ${admission.inFlight} more being registered)` : '';
    throw quotaExceeded('devices', limit, admission.used, note);
  }

  /** The tenant's quotas with its usage now (counts exact; storage as last measured). */
  async usage(tenant: TenantIdentity): Promise<QuotaUsageView> {
    const limits = await this.limits(tenant.slug);
    const [devices, customers, storage] = await Promise.all([
      this.count('devices').catch(() => null),
      this.count('customers').catch(() => null),
      this.storageOf(tenant),
    ]);
    return {
      devices: { ...limits.devices, used: devices },
      customers: { ...limits.customers, used: customers },
      storage: {
        ...limits.storage,
        used: storage?.bytes ?? null,
        measuredAt: storage?.measuredAt.toISOString() ?? null,
        byStore: storage?.byStore ?? {},
      },
    };
  }

  /** `QUOTA_EXCEEDED` (storage) when a storage quota is set and the last measurement reached it. */
  private async assertStorageAllows(tenant: TenantIdentity, limits: EffectiveQuotas): Promise<void> {
    const limit = limits.storage.limit;
    if (limit === 0) return;
    const storage = await this.storageOf(tenant);
    if (storage && quotaReached(limit, storage.bytes)) throw quotaExceeded('storage', limit, storage.bytes);
  }

  /** Exact row count of a counted quota's table, from its store, for the current tenant. */
  private async count(quota: keyof typeof COUNTED): Promise<number> {
    const { store, table } = COUNTED[quota];
    const entry = this.stores.stores.find((s) => s.store === store);
    if (!entry) throw new Error(`the ${store} store is not part of this deployment`);
    const usage = (await this.messages.request(entry.usage, { count: [table] })) as TenantUsageView;
    return usage.counts[table] ?? 0;
  }

  /**
   * The tenant's last storage measurement: this process's, else the catalog's; measured now when
   * there is none, and again in the background once it is older than `QUOTA_STORAGE_REFRESH_MS`
   * (then the old one still answers). Null when it could not be measured (a store down): writes
   * are not refused for a size nobody knows.
   */
  private async storageOf(tenant: TenantIdentity): Promise<StorageMeasurement | null> {
    const known = this.measured.get(tenant.id);
    if (known && !isStale(known.measuredAt, this.config.QUOTA_STORAGE_REFRESH_MS)) return known;
    if (!known) return this.refresh(tenant);
    void this.refresh(tenant);
    return known;
  }

  /** One refresh per tenant at a time: the catalog's measurement if another gateway took a fresh one, else a new one. */
  private refresh(tenant: TenantIdentity): Promise<StorageMeasurement | null> {
    const running = this.measuring.get(tenant.id);
    if (running) return running;
    const failed = this.failedAt.get(tenant.id);
    if (failed !== undefined && Date.now() - failed < MEASURE_BACKOFF_MS)
      return Promise.resolve(this.measured.get(tenant.id) ?? null);
    const work = this.load(tenant)
      .catch((error: unknown) => {
        this.failedAt.set(tenant.id, Date.now());
        this.logger.warn(
          { tenant: tenant.slug, err: error },
          `storage of ${tenant.slug} not measured: ${(error as Error).message}`,
        );
        return this.measured.get(tenant.id) ?? null;
      })
      .finally(() => this.measuring.delete(tenant.id));
    this.measuring.set(tenant.id, work);
    return work;
  }

  private async load(tenant: TenantIdentity): Promise<StorageMeasurement> {
    const stored = await this.quotas.storage(tenant.id);
    const measurement =
      stored && !isStale(stored.measuredAt, this.config.QUOTA_STORAGE_REFRESH_MS) ? stored : await this.measure(tenant);
    if (measurement !== stored) await this.quotas.recordStorage(tenant.id, measurement);
    this.measured.set(tenant.id, measurement);
    this.failedAt.delete(tenant.id);
    return measurement;
  }

  /** Asks every store of the deployment for the tenant's bytes, in a context of its own (not the request's deadline). */
  private measure(tenant: TenantIdentity): Promise<StorageMeasurement> {
    const context = newRequestContext({
      tenant: tenant.slug,
      deadline: Date.now() + MEASURE_TIMEOUT_MS,
      correlationId: RequestContextStore.current()?.correlationId,
    });
    return RequestContextStore.run(context, async () => {
      const measuredAt = new Date();
      const answers = await Promise.all(
        this.stores.stores.map(
          async (entry) =>
            [
              entry.store,
              ((await this.messages.request(entry.usage, { count: [] })) as TenantUsageView).bytes,
            ] as const,
        ),
      );
      const byStore = Object.fromEntries(answers);
      const bytes = answers.reduce((sum, [, b]) => sum + (b ?? 0), 0);
      return { bytes, byStore, measuredAt };
    });
  }
}
