import { Inject, Injectable } from '@nestjs/common';
import type { StoreName } from '#polystore/catalog';
import { parseServerUrl } from '#polystore/data-router';
import {
  healthResponseSchema,
  MessageClient,
  type StorePoolView,
  type TelemetryStreamView,
} from '#polystore/messaging';
import { isCodedError } from '#polystore/platform';
import { newRequestContext, RequestContextStore } from '#polystore/tenancy';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config.js';
import { StoreDirectory, type StoreEntry } from '../stores/store-directory.js';

/** No answer within this (or READY_TIMEOUT_MS, if shorter): the store is shown `down`. */
const MAX_WAIT_MS = 1_000;
/** The code shown for a store whose health answer does not match the contract. */
const INVALID_ANSWER = 'INVALID_HEALTH_ANSWER';

/** What one store says about its database servers, or why it said nothing. */
export type StorePools =
  | {
      readonly store: StoreName;
      readonly state: 'ok';
      /** The instance that answered (one replica's pools: each replica has its own). */
      readonly instance: string;
      /** Empty: the store has not connected to a server yet (or answers without pools: an older store). */
      readonly pools: readonly StorePoolView[];
      readonly stream?: TelemetryStreamView;
    }
  | {
      readonly store: StoreName;
      readonly state: 'down';
      /** The error code of the failed health request (`SERVICE_UNAVAILABLE`, `DEADLINE_EXCEEDED`...). */
      readonly code: string;
      /** `host:port` of the server the gateway places the store's new tenants on ('' if unreadable). */
      readonly defaultServer: string;
    };

/**
 * The pools of every store this deployment runs, from each store's health answer (`pools`,
 * `stream`: the figures its router and broker keep), all stores asked at once with a short
 * timeout: a store that does not answer is `down` with the error code, the others still count.
 * The gateway holds no store pool itself.
 */
@Injectable()
export class StorePoolsReader {
  constructor(
    private readonly messages: MessageClient,
    private readonly directory: StoreDirectory,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  all(): Promise<StorePools[]> {
    const timeoutMs = Math.min(this.config.READY_TIMEOUT_MS, MAX_WAIT_MS);
    return Promise.all(this.directory.stores.map((entry) => this.ask(entry, timeoutMs)));
  }

  private async ask(entry: StoreEntry, timeoutMs: number): Promise<StorePools> {
    const context = newRequestContext({ deadline: Date.now() + timeoutMs });
    try {
      const parsed = healthResponseSchema.safeParse(
        await RequestContextStore.run(context, () => this.messages.request(entry.health, {}, { timeoutMs })),
      );
      if (!parsed.success) return this.down(entry, INVALID_ANSWER);
      const answer = parsed.data;
      return {
        store: entry.store,
        state: 'ok',
        instance: answer.instance,
        pools: answer.pools ?? [],
        ...(answer.stream ? { stream: answer.stream } : {}),
      };
    } catch (error) {
      return this.down(entry, isCodedError(error) ? error.code : 'UNAVAILABLE');
    }
  }

  private down(entry: StoreEntry, code: string): StorePools {
    return { store: entry.store, state: 'down', code, defaultServer: hostPortOf(entry.defaultServerUrl) };
  }
}

/** `host:port` of a server URL (its id without the scheme): never its user, password or options. */
export function hostPortOf(serverUrl: string): string {
  try {
    const id = parseServerUrl(serverUrl).id;
    return id.slice(id.indexOf('://') + 3);
  } catch {
    return '';
  }
}
