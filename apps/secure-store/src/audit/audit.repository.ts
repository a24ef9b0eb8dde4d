import { Injectable } from '@nestjs/common';
import { DataSourceRouter } from '#polystore/data-router';
import { And, LessThanOrEqual, MoreThan, type EntityManager } from 'typeorm';
import { AuditEntryEntity, AuditHeadEntity } from './audit-entry.entity.js';

/** Data access for the current tenant's audit chain. */
@Injectable()
export class AuditRepository {
  constructor(private readonly router: DataSourceRouter) {}

  /** Locks and returns the chain head; appends are serialized per tenant by this lock. */
  async lockHead(manager: EntityManager): Promise<AuditHeadEntity> {
    const head = await manager
      .getRepository(AuditHeadEntity)
      .createQueryBuilder('h')
      .setLock('pessimistic_write')
      .where('h.id = 1')
      .getOne();
    if (!head) throw new Error('audit head missing');
    return head;
  }

  async append(
    manager: EntityManager,
    entries: AuditEntryEntity[],
    head: { seq: number; hash: Buffer },
  ): Promise<void> {
    await manager.getRepository(AuditEntryEntity).insert(entries);
    await manager.getRepository(AuditHeadEntity).update({ id: 1 }, { seq: head.seq, hash: head.hash });
  }

  /**
   * Appends `entries` and advances the head from `from` to `to` in **one statement** (one round
   * trip, atomic on its own): the head moves only if it still is `from`, and the entries are
   * written only if it moved. False when another writer advanced the head first (nothing written):
   * read the head again and chain the entries after it.
   */
  async appendAfter(
    entries: readonly AuditEntryEntity[],
    from: { seq: number; hash: Buffer },
    to: { seq: number; hash: Buffer },
  ): Promise<boolean> {
    const column = <K extends keyof AuditEntryEntity>(key: K) => entries.map((entry) => entry[key]);
    const rows: unknown[] = await this.router.run((ds) =>
      ds.query(
        `WITH advanced AS (
           UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1 AND seq = $3 AND hash = $4 RETURNING 1
         )
         INSERT INTO audit_entries (seq, at, action, subject_id, actor, correlation_id, outcome, prev_hash, hash)
         SELECT * FROM unnest($5::bigint[], $6::timestamptz[], $7::varchar[], $8::uuid[], $9::varchar[],
                              $10::varchar[], $11::varchar[], $12::bytea[], $13::bytea[])
          WHERE EXISTS (SELECT FROM advanced)
         RETURNING seq`,
        [
          to.seq,
          to.hash,
          from.seq,
          from.hash,
          column('seq'),
          column('at'),
          column('action'),
          column('subjectId'),
          column('actor'),
          column('correlationId'),
          column('outcome'),
          column('prevHash'),
          column('hash'),
        ],
      ),
    );
    return rows.length === entries.length;
  }

  /** Records after `afterSeq`, oldest first. */
  page(afterSeq: number, limit: number): Promise<AuditEntryEntity[]> {
    return this.router.run((ds) =>
      ds
        .getRepository(AuditEntryEntity)
        .find({ where: { seq: MoreThan(afterSeq) }, order: { seq: 'ASC' }, take: limit }),
    );
  }

  /** Records after `afterSeq` up to `toSeq` (the head read before: later records are not looked at), oldest first. */
  pageUpTo(afterSeq: number, toSeq: number, limit: number): Promise<AuditEntryEntity[]> {
    return this.router.run((ds) =>
      ds.getRepository(AuditEntryEntity).find({
        where: { seq: And(MoreThan(afterSeq), LessThanOrEqual(toSeq)) },
        order: { seq: 'ASC' },
        take: limit,
      }),
    );
  }

  /** The highest `seq` stored (0 when there is none): one step down the primary key. */
  async lastSeq(): Promise<number> {
    const rows: Array<{ seq: string | null }> = await this.router.run((ds) =>
      ds.query('SELECT max(seq)::text AS seq FROM audit_entries'),
    );
    return Number(rows[0]?.seq ?? 0);
  }

  head(): Promise<AuditHeadEntity | null> {
    return this.router.run((ds) => ds.getRepository(AuditHeadEntity).findOneBy({ id: 1 }));
  }
}
