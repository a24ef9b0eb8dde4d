import { Injectable } from '@nestjs/common';
import type { StoreName } from '#polystore/catalog';
import { parseServerUrl } from '#polystore/data-router';
import type { StorePoolView, TelemetryStreamView } from '#polystore/messaging';
import { StoreHealthPings } from './store-health-pings.service.js';

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
  constructor(private readonly pings: StoreHealthPings) {}

  async all(): Promise<StorePools[]> {
    return (await this.pings.all()).map(({ entry, answer, code }): StorePools =>
      answer
        ? {
            store: entry.store,
            state: 'ok',
            instance: answer.instance,
            pools: answer.pools ?? [],
            ...(answer.stream ? { stream: answer.stream } : {}),
          }
        : { store: entry.store, state: 'down', code: code!, defaultServer: hostPortOf(entry.defaultServerUrl) },
    );
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
