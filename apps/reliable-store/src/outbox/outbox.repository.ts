import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { DeviceEvent } from '#polystore/messaging';
import { RequestContextStore } from '#polystore/tenancy';
import { IsNull, type EntityManager } from 'typeorm';
import { OutboxEventEntity } from './outbox-event.entity.js';

/** Advisory lock key serializing outbox appends in a tenant database (not the relay's key). */
const PG_APPEND_LOCK = 7_164_202_001;

/** Writes events into the current tenant's outbox, inside the caller's transaction. */
@Injectable()
export class OutboxRepository {
  /**
   * Appends an event; it commits (or not) with the change it describes.
   *
   * On PostgreSQL, `seq` comes from a sequence when the row is inserted, not when it commits: two
   * concurrent writers could commit seq 2 before seq 1 and the relay publish them in that order.
   * A transaction-scoped advisory lock (per database, released at commit or rollback) makes the
   * appends of one tenant commit in `seq` order, so the relay's `seq` order is the commit order.
   */
  async append(manager: EntityManager, event: Omit<DeviceEvent, 'eventId' | 'tenant' | 'occurredAt'>): Promise<void> {
    if (manager.connection.options.type === 'postgres') {
      await manager.query('SELECT pg_advisory_xact_lock($1)', [PG_APPEND_LOCK]);
    }
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
