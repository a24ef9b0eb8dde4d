import { Inject, Injectable } from '@nestjs/common';
import { MessageClient } from '#polystore/messaging';
import { newRequestContext, RequestContextStore } from '#polystore/tenancy';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config.js';
import { StoreDirectory } from '../stores/store-directory.js';

/** How a store looks from the gateway: answering quickly, answering slowly, or not answering. */
export type StoreHealthWord = 'ok' | 'degraded' | 'down';

/** An answer later than this is `degraded`. */
const SLOW_MS = 250;
/** No answer within this (or READY_TIMEOUT_MS, if shorter) is `down`. */
const MAX_WAIT_MS = 1_000;

/**
 * The health word of each store this deployment runs, from one health ping per store (the one
 * readiness uses), all at once: computed once per console page, never per row. A store not run
 * here is absent (shown `down`). The gateway keeps no per-placement breaker of its own (the
 * stores do), so this is per store, not per server.
 */
@Injectable()
export class StoreHealth {
  constructor(
    private readonly messages: MessageClient,
    private readonly directory: StoreDirectory,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  async words(): Promise<Record<string, StoreHealthWord>> {
    const timeoutMs = Math.min(this.config.READY_TIMEOUT_MS, MAX_WAIT_MS);
    const entries = await Promise.all(
      this.directory.stores.map(async (entry) => {
        const started = Date.now();
        const answered = await RequestContextStore.run(newRequestContext({ deadline: started + timeoutMs }), () =>
          this.messages.request(entry.health, {}, { timeoutMs }).then(
            () => true,
            () => false,
          ),
        );
        const word: StoreHealthWord = !answered ? 'down' : Date.now() - started > SLOW_MS ? 'degraded' : 'ok';
        return [entry.store, word] as const;
      }),
    );
    return Object.fromEntries(entries);
  }
}
