import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import { CatalogAdminService } from '#polystore/catalog';
import { DataSourceRouter, DialectSeam } from '#polystore/data-router';
import { NATS_CONNECTION, openEventStream, Streams, type EventStream } from '#polystore/messaging';
import { CrashPoints, METRICS_REGISTRY } from '#polystore/platform';
import { runAsTenant, type TenantSlug } from '#polystore/tenancy';
import type { Registry } from 'prom-client';
import type { EntityManager, QueryRunner } from 'typeorm';
import { RELIABLE_CONFIG, type ReliableStoreConfig } from '../config.js';
import { OutboxMetrics } from './outbox.metrics.js';
import { OutboxRepository } from './outbox.repository.js';

const BATCH = 200;
const DUPLICATE_WINDOW_NS = 2 * 60 * 1_000_000_000;
const MAX_AGE_NS = 7 * 24 * 3_600 * 1_000_000_000;

/** Crash point (tests): a batch published to the stream, not yet marked published in the outbox. */
export const OUTBOX_CRASH_POINT = 'reliable.outbox.after-publish';

/**
 * Publishes each tenant's outbox to its event stream (JetStream on NATS), at least once and in
 * order per tenant.
 *
 * A commit that wrote events calls {@link notify}; the relay then drains that tenant. One drain
 * per tenant database runs at a time across all replicas (a database lock, `GET_LOCK` /
 * `pg_try_advisory_lock`), publishing events in `seq` order, each with its event id as the
 * JetStream message id (duplicates within the stream's window are dropped), and marking them
 * published. A crash between publish and mark republishes on the next drain: consumers dedup by
 * event id. At boot, and every `OUTBOX_SWEEP_INTERVAL_MS`, every tenant is drained, which picks
 * up what a crashed process left behind.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OutboxRelay.name);
  private stream!: EventStream;
  private readonly draining = new Map<TenantSlug, Promise<void>>();
  private readonly again = new Set<TenantSlug>();
  private sweeper?: NodeJS.Timeout;
  private stopped = false;
  private readonly metrics: OutboxMetrics;
  published = 0;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(RELIABLE_CONFIG) private readonly config: ReliableStoreConfig,
    private readonly router: DataSourceRouter,
    private readonly outbox: OutboxRepository,
    private readonly catalog: CatalogAdminService,
    @Inject(METRICS_REGISTRY) registry: Registry,
  ) {
    this.metrics = new OutboxMetrics(registry);
  }

  async onApplicationBootstrap(): Promise<void> {
    const prefix = this.config.NATS_SUBJECT_PREFIX;
    this.stream = await openEventStream(this.nc, {
      name: Streams.reliableEvents.name(prefix),
      subjects: [Streams.reliableEvents.wildcard(prefix)],
      duplicateWindowNs: DUPLICATE_WINDOW_NS,
      maxAgeNs: MAX_AGE_NS,
    });
    void this.sweep();
    this.sweeper = setInterval(() => void this.sweep(), this.config.OUTBOX_SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.sweeper);
    await Promise.allSettled([...this.draining.values()]);
  }

  /** The tenant committed events: drain its outbox soon (coalesced, never concurrent per tenant). */
  notify(tenant: TenantSlug): void {
    if (this.stopped) return;
    if (this.draining.has(tenant)) {
      this.again.add(tenant);
      return;
    }
    const run = this.drain(tenant)
      .catch((error: unknown) => {
        this.metrics.drainFailed();
        this.logger.warn({ tenant, code: (error as { code?: string }).code }, 'outbox drain failed; the sweep retries');
      })
      .finally(() => {
        this.draining.delete(tenant);
        if (this.again.delete(tenant)) this.notify(tenant);
      });
    this.draining.set(tenant, run);
  }

  /** Drains every tenant with a reliable placement (boot and periodic catch-up). */
  async sweep(): Promise<void> {
    const tenants = await this.catalog.listTenants().catch(() => null);
    if (!tenants) return;
    const served = tenants.filter((t) => t.status === 'active' && t.placements.some((p) => p.store === 'reliable'));
    this.metrics.keepOnly(new Set(served.map((t) => t.slug)));
    for (const tenant of served) {
      if (this.stopped) return;
      this.notify(tenant.slug);
      await this.draining.get(tenant.slug);
    }
  }

  private drain(tenant: TenantSlug): Promise<void> {
    return runAsTenant(tenant, () => this.router.run((db) => this.drainLocked(tenant, db)), 60_000);
  }

  /** Drains on the unit of work's own connection (the router binds it to the tenant). */
  private async drainLocked(tenant: TenantSlug, db: EntityManager): Promise<void> {
    const runner = db.queryRunner!;
    const lock = RELAY_LOCK.of(db);
    if (!(await lock.tryLock(runner))) return; // another replica is draining this tenant
    try {
      let backlog = await this.outbox.countUnpublished(runner.manager);
      for (;;) {
        const batch = await this.outbox.unpublished(runner.manager, BATCH);
        if (batch.length === 0) this.metrics.drained(tenant);
        else this.metrics.backlog(tenant, Math.max(backlog, batch.length), batch[0]!.createdAt);
        if (batch.length === 0 || this.stopped) return;
        for (const row of batch) {
          await this.stream.publish(
            Streams.reliableEvents.subject(this.config.NATS_SUBJECT_PREFIX, tenant, row.type),
            row.payload,
            row.eventId,
          );
        }
        CrashPoints.hit(OUTBOX_CRASH_POINT);
        await this.outbox.markPublished(
          runner.manager,
          batch.map((r) => r.seq),
        );
        this.published += batch.length;
        this.metrics.publishedEvents(batch.map((r) => r.createdAt));
        backlog -= batch.length;
        if (batch.length < BATCH) {
          this.metrics.drained(tenant);
          return;
        }
      }
    } finally {
      await lock.unlock(runner).catch(() => undefined);
    }
  }
}

/** The relay's lock on one engine, held on the unit of work's own connection. */
interface RelayLock {
  tryLock(runner: QueryRunner): Promise<boolean>;
  unlock(runner: QueryRunner): Promise<void>;
}

/**
 * The relay's lock is named by the tenant's schema (PostgreSQL: advisory locks are per database,
 * and one shared database holds many tenants' schemas) or database (MySQL: lock names are
 * server-wide), read by the server itself from the connection's binding.
 */
const PG_RELAY_LOCK = "hashtext('polystore_outbox:' || current_schema())";
const MYSQL_RELAY_LOCK = "LEFT(CONCAT('polystore_outbox_', DATABASE()), 64)";

const RELAY_LOCK = new DialectSeam<RelayLock>('the outbox relay lock', {
  postgres: {
    async tryLock(runner) {
      const rows = (await runner.query(`SELECT pg_try_advisory_lock(${PG_RELAY_LOCK}) AS locked`)) as Array<{
        locked: boolean;
      }>;
      return rows[0]?.locked === true;
    },
    async unlock(runner) {
      await runner.query(`SELECT pg_advisory_unlock(${PG_RELAY_LOCK})`);
    },
  },
  mysql: {
    async tryLock(runner) {
      const rows = (await runner.query(`SELECT GET_LOCK(${MYSQL_RELAY_LOCK}, 0) AS locked`)) as Array<{
        locked: number | string;
      }>;
      return Number(rows[0]?.locked) === 1;
    },
    async unlock(runner) {
      await runner.query(`SELECT RELEASE_LOCK(${MYSQL_RELAY_LOCK})`);
    },
  },
});
