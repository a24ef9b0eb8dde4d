import { Injectable } from '@nestjs/common';
import { DataSourceRouter } from '#polystore/data-router';
import type { UsageRecordView } from '#polystore/messaging';
import type { EntityManager } from 'typeorm';
import { UsageRecordEntity } from './usage-record.entity.js';

const CHUNK = 200;

/** Data access for the current tenant's usage ledger. */
@Injectable()
export class UsageRepository {
  constructor(private readonly router: DataSourceRouter) {}

  /** Sets each record's amount, keyed by (device, period, metric): re-applying changes nothing. */
  async upsert(manager: EntityManager, records: readonly UsageRecordView[]): Promise<number> {
    const now = new Date();
    for (let i = 0; i < records.length; i += CHUNK) {
      const chunk = records.slice(i, i + CHUNK).map((r) => ({
        deviceId: r.deviceId,
        periodStart: new Date(r.periodStart),
        metric: r.metric,
        amount: r.amount,
        updatedAt: now,
      }));
      await manager.getRepository(UsageRecordEntity).upsert(chunk, {
        conflictPaths: ['deviceId', 'periodStart', 'metric'],
        skipUpdateIfNoValuesChanged: false,
      });
    }
    return records.length;
  }

  /** Records with `from <= period_start < to`, oldest first, at most `limit`. */
  find(from: Date, to: Date, limit: number, deviceId?: string, metric?: string): Promise<UsageRecordEntity[]> {
    return this.router.run((ds) => {
      const query = ds
        .getRepository(UsageRecordEntity)
        .createQueryBuilder('u')
        .where('u.period_start >= :from AND u.period_start < :to', { from, to });
      if (deviceId) query.andWhere('u.device_id = :deviceId', { deviceId });
      if (metric) query.andWhere('u.metric = :metric', { metric });
      return query
        .orderBy('u.period_start', 'ASC')
        .addOrderBy('u.device_id', 'ASC')
        .addOrderBy('u.metric', 'ASC')
        .take(limit)
        .getMany();
    });
  }
}
