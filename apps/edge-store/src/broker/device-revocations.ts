import { Logger } from '@nestjs/common';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { devicesAccountJwt, type BrokerKeys } from '#polystore/device-broker';
import { connectToBroker } from './broker-connection.js';
import type { TelemetryBroker } from './telemetry-broker.js';

const BUCKET = 'device_revocations';
const CLAIMS_UPDATE = '$SYS.REQ.CLAIMS.UPDATE';

/** Counters for the metrics. */
export interface RevocationStats {
  readonly entries: number;
  readonly accountJwtBytes: number;
  readonly maxPayloadBytes: number;
}

/**
 * Device credential revocations, enforced by the broker itself: the devices account JWT lists the
 * revoked user keys, and pushing it (`$SYS.REQ.CLAIMS.UPDATE`, as the system user) makes the
 * server refuse those credentials and close their live connections at once.
 *
 * The list is kept in a replicated KV bucket (`device_revocations`: user key → seconds), which
 * every edge replica watches; after any change each replica pushes the whole list again, so the
 * server converges on the union whichever replica pushed last (the server keeps the last JWT it
 * is sent, whatever its `iat`). An entry is dropped from the JWT once every credential it revokes
 * has expired (`DEVICE_CREDENTIAL_TTL_DAYS`), which bounds the list: about 93 bytes per entry
 * against the server's max_payload (8 MiB with the project's config: ~90,000 revocations per
 * credential lifetime).
 */
export class DeviceRevocations {
  private readonly logger = new Logger(DeviceRevocations.name);
  private readonly revoked = new Map<string, number>();
  private pushing: Promise<void> = Promise.resolve();
  private pushTimer?: NodeJS.Timeout;
  private lastJwtBytes = 0;
  private watching?: AsyncIterable<unknown> & { stop(): void };

  private constructor(
    private readonly keys: BrokerKeys,
    private readonly kv: KV,
    private readonly system: NatsConnection,
    private readonly ttlSeconds: number,
  ) {}

  static async open(
    broker: TelemetryBroker,
    servers: readonly string[],
    keys: BrokerKeys,
    options: { ttlSeconds: number; replicas: number; name: string },
  ): Promise<DeviceRevocations> {
    const kv = await new Kvm(broker.js).create(BUCKET, {
      history: 1,
      replicas: options.replicas,
      // An entry outlives every credential it revokes by a day (none when credentials never expire).
      ...(options.ttlSeconds > 0 ? { ttl: (options.ttlSeconds + 86_400) * 1_000 } : {}),
    });
    const system = await connectToBroker(servers, {
      user: keys.systemUser,
      account: keys.systemAccount,
      name: `${options.name}:system`,
    });
    const revocations = new DeviceRevocations(keys, kv, system, options.ttlSeconds);
    await revocations.watch();
    await revocations.pushNow();
    return revocations;
  }

  /**
   * Revokes every credential of these user keys issued up to now: recorded in the bucket, then
   * pushed to the server; resolves once the server has applied it (live connections are closed).
   */
  async revoke(userKeys: readonly string[]): Promise<void> {
    if (userKeys.length === 0) return;
    const at = Math.floor(Date.now() / 1000);
    for (const key of userKeys) {
      await this.kv.put(key, String(at));
      this.revoked.set(key, at);
    }
    await this.pushNow();
  }

  stats(): RevocationStats {
    return {
      entries: this.revoked.size,
      accountJwtBytes: this.lastJwtBytes,
      maxPayloadBytes: this.system.info?.max_payload ?? 0,
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }

  async close(): Promise<void> {
    clearTimeout(this.pushTimer);
    this.watching?.stop();
    await this.pushing.catch(() => undefined);
    await this.system.drain().catch(() => this.system.close());
  }

  /**
   * Loads the bucket, then follows it: another replica's revocation is pushed from here too.
   * Resolves once every entry already in the bucket is known (the watcher marks the last of them
   * as the first update), so no push ever leaves out an earlier revocation.
   */
  private async watch(): Promise<void> {
    let initialized!: () => void;
    const loaded = new Promise<void>((resolve) => (initialized = resolve));
    if ((await this.kv.status()).values === 0) initialized();
    const iterator = await this.kv.watch();
    this.watching = iterator;
    void (async () => {
      for await (const entry of iterator) {
        if (entry.operation === 'PUT') this.revoked.set(entry.key, Number(entry.string()));
        else this.revoked.delete(entry.key);
        if (!entry.isUpdate) continue;
        initialized();
        clearTimeout(this.pushTimer);
        this.pushTimer = setTimeout(() => void this.pushNow().catch(() => undefined), 50);
      }
    })();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('the device revocation list did not load within 15 s')), 15_000);
    });
    try {
      await Promise.race([loaded, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Pushes the current list (one push at a time, in order). */
  private pushNow(): Promise<void> {
    const next = this.pushing.catch(() => undefined).then(() => this.push());
    this.pushing = next;
    return next;
  }

  private async push(): Promise<void> {
    const now = Math.floor(Date.now() / 1000);
    const entries: Record<string, number> = {};
    for (const [key, at] of this.revoked) {
      if (this.ttlSeconds > 0 && at + this.ttlSeconds + 60 < now) continue;
      entries[key] = at;
    }
    const jwt = devicesAccountJwt(this.keys, entries, now);
    this.lastJwtBytes = jwt.length;
    const reply = await this.system.request(CLAIMS_UPDATE, jwt, { timeout: 5_000 });
    const answer = reply.json<{ data?: { code?: number; message?: string }; error?: { description?: string } }>();
    if (answer.data?.code !== 200) {
      this.logger.error(
        { error: answer.error?.description ?? answer.data?.message },
        'the broker refused the revocation list',
      );
      throw new Error(
        `the broker refused the revocation list: ${answer.error?.description ?? answer.data?.message ?? 'no answer'}`,
      );
    }
  }
}
