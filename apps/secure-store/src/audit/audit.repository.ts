import { Injectable } from '@nestjs/common';
import { DataSourceRouter } from '#polystore/data-router';
import { MoreThan, type EntityManager } from 'typeorm';
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

  /** Records after `afterSeq`, oldest first. */
  page(afterSeq: number, limit: number): Promise<AuditEntryEntity[]> {
    return this.router.run((ds) =>
      ds
        .getRepository(AuditEntryEntity)
        .find({ where: { seq: MoreThan(afterSeq) }, order: { seq: 'ASC' }, take: limit }),
    );
  }

  head(): Promise<AuditHeadEntity | null> {
    return this.router.run((ds) => ds.getRepository(AuditHeadEntity).findOneBy({ id: 1 }));
  }

  /** Runs `work` in a transaction on the current tenant's database. */
  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.router.transaction(work);
  }
}
