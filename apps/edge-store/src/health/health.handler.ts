import { Controller, Get, Inject, Optional } from '@nestjs/common';
import { DataSourceRouter, serverPools } from '#polystore/data-router';
import { Contracts, Handles, MAX_HEALTH_CIRCUITS, type ResponseOf } from '#polystore/messaging';
import type { EdgeStoreConfig } from '../config.js';
import { EDGE_CONFIG } from '../edge.tokens.js';
import { IngestService } from '../ingest/ingest.service.js';
import { StreamConsumer } from '../ingest/stream-consumer.service.js';

/**
 * Liveness over NATS (the gateway's readiness check) and HTTP. The NATS answer also carries the
 * pools of each database server the store uses (`pools`, from its router's in-memory counters)
 * and, with a device broker, the telemetry stream against its limits as last checked (`stream`),
 * and the readings committed since start (`readingsStored`: the console's ingest rate).
 */
@Controller()
export class HealthHandler {
  constructor(
    @Inject(EDGE_CONFIG) private readonly config: EdgeStoreConfig,
    private readonly router: DataSourceRouter,
    @Optional() private readonly consumer?: StreamConsumer,
    @Optional() private readonly ingest?: IngestService,
  ) {}

  @Handles(Contracts.edge.health)
  ping(): ResponseOf<typeof Contracts.edge.health> {
    const stream = this.consumer?.streamState();
    return {
      status: 'ok',
      instance: this.config.INSTANCE_ID,
      pools: serverPools(this.router.stats()),
      circuits: this.router.openCircuits(MAX_HEALTH_CIRCUITS),
      ...(this.ingest ? { readingsStored: this.ingest.readingsStored() } : {}),
      ...(stream
        ? {
            stream: {
              messages: stream.backlog.messages,
              bytes: stream.backlog.bytes,
              maxMessages: stream.backlog.maxMessages,
              maxBytes: stream.backlog.maxBytes,
              fillRatio: stream.backlog.fillRatio,
              checkedAt: stream.checkedAt.toISOString(),
            },
          }
        : {}),
    };
  }

  @Get('health/live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }
}
