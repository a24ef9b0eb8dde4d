import { Injectable } from '@nestjs/common';
import type { z } from 'zod';
import type { TenantView } from '#polystore/catalog';
import {
  Contracts,
  MessageClient,
  tenantIngestResponseSchema,
  tenantUsageResponseSchema,
  type Contract,
  type TenantIngestView,
  type TenantUsageView,
} from '#polystore/messaging';
import { newRequestContext, parseTenantSlug, RequestContextStore, type TenantSlug } from '#polystore/tenancy';
import { StoreDirectory } from '../stores/store-directory.js';
import { TenantErrorRatesHook, type TenantErrorRate } from './tenant-error-rates.service.js';

/** A store's answer later than this is not waited for: the figure is `—` (the page still renders). */
const USAGE_WAIT_MS = 2_000;
/** The store and table whose rows are the tenant's devices (as the quotas count them). */
const DEVICES = { store: 'reliable', table: 'devices' } as const;

/** A figure, or why it cannot be had (shown as `—` with the reason as its title). */
export type Figure<T> = { readonly value: T } | { readonly missing: string };

/** What the console shows about one tenant besides the catalog's rows. */
export interface TenantInsights {
  /** Per placement: the newest migration recorded in its schema or database. */
  readonly migrations: Readonly<Record<string, Figure<string | null>>>;
  readonly devices: Figure<number>;
  /** The tenant's readings captured by the edge store's stream and not stored yet, and the oldest's age. */
  readonly ingest: Figure<TenantIngestView>;
  /** Tenant API requests and 5xx answers of the last minutes on this gateway replica (null: none). */
  readonly errors: TenantErrorRate | null;
}

/**
 * A tenant's migration version per placement and its device count, from each store's
 * `<store>.tenants.usage` (the contract the quotas use, asked with `migration: true`: the store
 * reads its own migrations table through the tenant's unit of work, so the gateway needs no
 * database credential), every store at once with a short timeout; a store that does not answer
 * costs its figures only. And the tenant's recent error rate on this replica.
 */
@Injectable()
export class TenantInsightsReader {
  constructor(
    private readonly messages: MessageClient,
    private readonly directory: StoreDirectory,
    private readonly errorRates: TenantErrorRatesHook,
  ) {}

  async of(tenant: TenantView): Promise<TenantInsights> {
    const slug = parseTenantSlug(tenant.slug);
    const ingest = this.ingest(
      slug,
      tenant.placements.some((p) => p.store === 'edge'),
    );
    const answers = await Promise.all(
      tenant.placements.map(async (placement) => {
        const entry = this.directory.stores.find((s) => s.store === placement.store);
        const answer: Figure<TenantUsageView> = entry
          ? await this.usage(slug, entry.usage, placement.store === DEVICES.store ? [DEVICES.table] : [])
          : { missing: `the ${placement.store} store is not part of this deployment (STORES)` };
        return [placement.store, answer] as const;
      }),
    );
    const migrations: Record<string, Figure<string | null>> = {};
    let devices: Figure<number> = { missing: `no ${DEVICES.store} placement` };
    for (const [store, answer] of answers) {
      if ('missing' in answer) {
        migrations[store] = answer;
        if (store === DEVICES.store) devices = answer;
        continue;
      }
      migrations[store] =
        answer.value.migration === undefined
          ? { missing: `the ${store} store does not report migrations (an older version)` }
          : { value: answer.value.migration };
      if (store === DEVICES.store) {
        const count = answer.value.counts[DEVICES.table];
        devices = count === undefined ? { missing: 'the store did not count devices' } : { value: count };
      }
    }
    return { migrations, devices, ingest: await ingest, errors: this.errorRates.of(tenant.slug) };
  }

  /** The edge store's `tenants.ingest` for the tenant (asked beside the usage requests). */
  private async ingest(tenant: TenantSlug, hasEdge: boolean): Promise<Figure<TenantIngestView>> {
    if (!hasEdge) return { missing: 'no edge placement' };
    if (!this.directory.stores.some((s) => s.store === 'edge'))
      return { missing: 'the edge store is not part of this deployment (STORES)' };
    const answer = await this.ask(tenant, Contracts.edge.tenants.ingest, {}, tenantIngestResponseSchema);
    if ('missing' in answer || answer.value.messages !== null) return answer;
    return { missing: 'the edge store runs without a device broker: readings are not captured by a stream' };
  }

  private usage(tenant: TenantSlug, contract: Contract, count: string[]): Promise<Figure<TenantUsageView>> {
    return this.ask(tenant, contract, { count, migration: true }, tenantUsageResponseSchema);
  }

  /**
   * One tenant-scoped request within {@link USAGE_WAIT_MS}, its answer checked against `schema`:
   * the figure, or why there is none (no answer, or an answer outside the contract).
   */
  private async ask<T>(
    tenant: TenantSlug,
    contract: Contract,
    request: unknown,
    schema: z.ZodType<T>,
  ): Promise<Figure<T>> {
    const context = newRequestContext({ tenant, deadline: Date.now() + USAGE_WAIT_MS });
    try {
      const answer = await RequestContextStore.run(context, () =>
        this.messages.request(contract, request, { timeoutMs: USAGE_WAIT_MS }),
      );
      const parsed = schema.safeParse(answer);
      return parsed.success ? { value: parsed.data } : { missing: 'the store answered outside the contract' };
    } catch (error) {
      return { missing: `the store did not answer: ${(error as { code?: string }).code ?? 'UNAVAILABLE'}` };
    }
  }
}
