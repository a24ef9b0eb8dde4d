import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DialectSeam } from '#polystore/data-router';
import type { DeviceEvent } from '#polystore/messaging';
import { RequestContextStore } from '#polystore/tenancy';
import { IsNull, type EntityManager } from 'typeorm';
import { OutboxEventEntity } from './outbox-event.entity.js';

/** The statement an append takes the tenant's append lock with (see `OutboxRepository.append`). */
const APPEND_LOCK = new DialectSeam<readonly string[]>('the outbox append lock', {
  postgres: ['SELECT id FROM outbox_append_lock WHERE id = 1 FOR UPDATE'],
  mysql: ['DELETE FROM outbox_append_lock WHERE id = 1', 'INSERT INTO outbox_append_lock (id) VALUES (1)'],
});

/** Writes events into the current tenant's outbox, inside the caller's transaction. */
@Injectable()
export class OutboxRepository {
  /**
   * Appends an event; it commits (or not) with the change it describes.
   *
   * `seq` is assigned when the row is inserted (a sequence, AUTO_INCREMENT), not when it
   * commits: two concurrent writers of one tenant could commit seq 2 before seq 1, and the relay
   * would publish them in that order. So an append first takes a lock held until the
   * transaction ends: the one row of the tenant's own `outbox_append_lock`. (An advisory lock
   * with a fixed key, as PostgreSQL used before, would serialize every tenant of a shared
   * database.) The appends of one tenant then commit in `seq` order, and the relay's `seq` order
   * is the commit order.
   *
   * On MariaDB/MySQL the row is taken by a write, not by `SELECT ... FOR UPDATE`: a Galera
   * cluster does not replicate read locks, so two writers of one tenant on two nodes would both
   * get the row, while two writes of one row are certified cluster-wide and the later commit
   * fails (a deadlock error, retried by the store's retry policies with a new `seq`). The write
   * deletes the row and inserts it again: the table and the row stay as they were (no migration;
   * a replica of the previous release still finds the row it locks), and it is a real change,
   * which `REPLACE` or a same-value `UPDATE` is not (InnoDB skips a row that does not change, and
   * so does Galera's write set). One round trip more than the read lock. On PostgreSQL (one
   * primary) the row lock is enough.
   */
  async append(manager: EntityManager, event: Omit<DeviceEvent, 'eventId' | 'tenant' | 'occurredAt'>): Promise<void> {
    for (const statement of APPEND_LOCK.of(manager)) await manager.query(statement);
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
