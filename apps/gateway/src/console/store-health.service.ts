import { Injectable } from '@nestjs/common';
import type { PlacementView } from '#polystore/catalog';
import type { PlacementCircuitView } from '#polystore/messaging';
import { StoreHealthPings } from './store-health-pings.service.js';

/** How a store looks from the gateway: answering quickly, answering slowly, or not answering. */
export type StoreHealthWord = 'ok' | 'degraded' | 'down';

/** An answer later than this is `degraded`. */
const SLOW_MS = 250;

/** What one page's health pings found: each store's word, and each placement's. */
export interface ConsoleHealth {
  readonly stores: Readonly<Record<string, StoreHealthWord>>;
  /**
   * A placement's word: its store's, unless the store's breaker for it is not closed (`open` or
   * `isolated`: down; `half-open`: degraded): a tenant whose own server is down shows down alone.
   */
  placement(placement: PlacementView): StoreHealthWord;
}

/** The key of a placement in a store's circuits: the router's server id, database and schema. */
function circuitKey(server: string, database: string, schema: string | null | undefined): string {
  return `${server}\u0000${database}\u0000${schema ?? ''}`;
}

/**
 * The health of each store this deployment runs, from one health ping per store (the one
 * readiness uses), all at once: computed once per console page, never per row. A store not run
 * here is absent (shown `down`). Each answer also names the placements whose circuit breaker in
 * that store instance is not closed (`circuits`): the placement's own health. The breakers are
 * per store replica: the answer is the replica that answered.
 */
@Injectable()
export class StoreHealth {
  constructor(private readonly pings: StoreHealthPings) {}

  /** Every store's word (no reply within the ping's timeout: `down`), and each placement's. */
  async check(): Promise<ConsoleHealth> {
    const entries = (await this.pings.all()).map(({ entry, elapsedMs, replied, answer }) => {
      const word: StoreHealthWord = !replied ? 'down' : elapsedMs > SLOW_MS ? 'degraded' : 'ok';
      const circuits: readonly PlacementCircuitView[] = answer?.circuits ?? [];
      return [entry.store, word, circuits] as const;
    });
    const stores = Object.fromEntries(entries.map(([store, word]) => [store, word]));
    const open = new Map<string, PlacementCircuitView['circuit']>(
      entries.flatMap(([store, , circuits]) =>
        circuits.map((c) => [`${store}\u0000${circuitKey(c.server, c.database, c.schema)}`, c.circuit] as const),
      ),
    );
    return {
      stores,
      placement: (placement) => {
        const word: StoreHealthWord = stores[placement.store] ?? 'down';
        if (word === 'down') return word;
        const circuit = open.get(
          `${placement.store}\u0000${circuitKey(placement.server, placement.database, placement.schema)}`,
        );
        if (circuit === 'open' || circuit === 'isolated') return 'down';
        return circuit === 'half-open' ? 'degraded' : word;
      },
    };
  }
}
