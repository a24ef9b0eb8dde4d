import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { DeviceEvent } from '#polystore/messaging';
import { RequestContextStore } from '#polystore/tenancy';
import { IsNull, type EntityManager } from 'typeorm';
import { OutboxEventEntity } from './outbox-event.entity.js';

/** Writes events into the current tenant's outbox, inside the caller's transaction. */
@Injectable()
export class OutboxRepository {
  /** Appends an event; it commits (or not) with the change it describes. */
  async append(manager: EntityManager, event: Omit<DeviceEvent, 'eventId' | 'tenant' | 'occurredAt'>): Promise<void> {
    const now = new Date();
    const full: DeviceEvent = {
      ...event,
      eventId: randomUUID(),
      tenant: RequestContextStore.requireTenant(),
      occurredAt: now.toISOString(),
    };
    await manager.insert(OutboxEventEntity, {
      eventId: full.eventId,
      type: full.type,
      payload: JSON.stringify(full),
      createdAt: now,
      publishedAt: null,
    });
  }

  /** The oldest unpublished events, in order. */
  unpublished(manager: EntityManager, limit: number): Promise<OutboxEventEntity[]> {
    return manager.find(OutboxEventEntity, { where: { publishedAt: IsNull() }, order: { seq: 'ASC' }, take: limit });
  }

  async markPublished(manager: EntityManager, seqs: string[]): Promise<void> {
    if (seqs.length > 0) await manager.update(OutboxEventEntity, seqs, { publishedAt: new Date() });
  }
}
