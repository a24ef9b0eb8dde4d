import { Inject, Injectable } from '@nestjs/common';
import { healthResponseSchema, MessageClient, type HealthView } from '#polystore/messaging';
import { isCodedError } from '#polystore/platform';
import { newRequestContext, RequestContextStore } from '#polystore/tenancy';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config.js';
import { StoreDirectory, type StoreEntry } from '../stores/store-directory.js';

/** No answer within this (or READY_TIMEOUT_MS, if shorter): the store did not answer. */
const MAX_WAIT_MS = 1_000;
/** The code of an answer that does not match the health contract. */
const INVALID_HEALTH_ANSWER = 'INVALID_HEALTH_ANSWER';

/** One store's answer to its health ping, and how long it took. */
export interface HealthPing {
  readonly entry: StoreEntry;
  readonly elapsedMs: number;
  /** Whether the store replied at all (an answer outside the contract is a reply too). */
  readonly replied: boolean;
  /** The answer, when it matched the contract. */
  readonly answer?: HealthView;
  /** Why there is no answer: the request's error code, or {@link INVALID_HEALTH_ANSWER}. */
  readonly code?: string;
}

/**
 * The console's one way to ask the stores how they are: every store's `<store>.health` (the
 * readiness ping, whose answer also carries pools, circuits and the telemetry stream) at once,
 * each within READY_TIMEOUT_MS capped at 1 s, the answer checked against the contract. The
 * tenants page, the servers page and the overview's sampler read their figures from it.
 */
@Injectable()
export class StoreHealthPings {
  constructor(
    private readonly messages: MessageClient,
    private readonly directory: StoreDirectory,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  /** Every store's ping, in the directory's order. */
  all(): Promise<HealthPing[]> {
    const timeoutMs = Math.min(this.config.READY_TIMEOUT_MS, MAX_WAIT_MS);
    return Promise.all(this.directory.stores.map((entry) => this.ping(entry, timeoutMs)));
  }

  private async ping(entry: StoreEntry, timeoutMs: number): Promise<HealthPing> {
    const started = Date.now();
    try {
      const reply = await RequestContextStore.run(newRequestContext({ deadline: started + timeoutMs }), () =>
        this.messages.request(entry.health, {}, { timeoutMs }),
      );
      const elapsedMs = Date.now() - started;
      const parsed = healthResponseSchema.safeParse(reply);
      return parsed.success
        ? { entry, elapsedMs, replied: true, answer: parsed.data }
        : { entry, elapsedMs, replied: true, code: INVALID_HEALTH_ANSWER };
    } catch (error) {
      return {
        entry,
        elapsedMs: Date.now() - started,
        replied: false,
        code: isCodedError(error) ? error.code : 'UNAVAILABLE',
      };
    }
  }
}
