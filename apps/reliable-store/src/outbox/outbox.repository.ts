import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { DeviceEvent } from '#polystore/messaging';
import { RequestContextStore } from '#polystore/tenancy';
import { IsNull, type EntityManager } from 'typeorm';
import { OutboxEventEntity } from './outbox-event.entity.js';

/** Writes events into the current tenant's outbox, inside the caller's transaction. */
@Injectable()
export class OutboxRepository {
  /**
   * Appends an event; it commits (or not) with the change it describes.
   *
   * `seq` is assigned when the row is inserted (a sequence, AUTO_INCREMENT), not when it
   * commits: two concurrent writers of one tenant could commit seq 2 before seq 1, and the relay
   * would publish them in that order. So an append first takes a lock held until the
   * transaction ends: the one row of the tenant's own `outbox_append_lock` (`FOR UPDATE`), on
   * every dialect. (An advisory lock with a fixed key, as PostgreSQL used before, would serialize
   * every tenant of a shared database.) The appends of one tenant then commit in `seq` order, and
   * the relay's `seq` order is the commit order.
   */
  async append(manager: EntityManager, event: Omit<DeviceEvent, 'eventId' | 'tenant' | 'occurredAt'>): Promise<void> {
    await manager.query('SELECT id FROM outbox_append_lock WHERE id = 1 FOR UPDATE');
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

  /** How many events wait to be published (the `published_at, seq` index answers it). */
  async countUnpublished(manager: EntityManager): Promise<number> {
    return manager.count(OutboxEventEntity, { where: { publishedAt: IsNull() } });
  }

  async markPublished(manager: EntityManager, seqs: string[]): Promise<void> {
    if (seqs.length > 0) await manager.update(OutboxEventEntity, seqs, { publishedAt: new Date() });
  }
}
