import { Controller, Inject } from '@nestjs/common';
import { Contracts, Handles, type ResponseOf } from '#polystore/messaging';
import { RequestContextStore } from '#polystore/tenancy';
import type { TelemetryBroker } from '../broker/telemetry-broker.js';
import { TELEMETRY_BROKER } from '../edge.tokens.js';

/**
 * `edge.tenants.ingest`: the tenant's readings captured by the telemetry stream and not stored
 * yet, and the age of the oldest (the tenant's ingest lag), read from the stream on each call
 * (the console's tenant page asks; nothing is kept here). Without a device broker every figure
 * is null: readings are then not captured through a stream.
 */
@Controller()
export class TenantBacklogHandler {
  constructor(@Inject(TELEMETRY_BROKER) private readonly broker: TelemetryBroker | null) {}

  @Handles(Contracts.edge.tenants.ingest)
  async ingest(): Promise<ResponseOf<typeof Contracts.edge.tenants.ingest>> {
    if (!this.broker) return { messages: null, oldestAt: null, lagSeconds: null };
    const backlog = await this.broker.tenantBacklog(RequestContextStore.requireTenant());
    return {
      messages: backlog.messages,
      oldestAt: backlog.oldestAt === null ? null : new Date(backlog.oldestAt).toISOString(),
      lagSeconds: backlog.oldestAt === null ? 0 : Math.max(0, Date.now() - backlog.oldestAt) / 1000,
    };
  }
}
