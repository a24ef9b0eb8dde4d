import { Injectable } from '@nestjs/common';
import { IdempotentExecutor } from '#polystore/idempotency';
import type { Contracts, ParsedRequestOf, UsageRecordView } from '#polystore/messaging';
import { ReliableStoreException } from '../reliable-store.exception.js';
import { UsageRepository } from './usage.repository.js';

type U = typeof Contracts.reliable.usage;

const HOUR = 3_600_000;
const MAX_RANGE = 366 * 24 * HOUR;

/** The usage ledger: hourly amounts per device and metric, never lost, never applied twice. */
@Injectable()
export class UsageService {
  constructor(
    private readonly usage: UsageRepository,
    private readonly idempotent: IdempotentExecutor,
  ) {}

  async upsert(request: ParsedRequestOf<U['upsert']>): Promise<{ upserted: number }> {
    for (const record of request.records) {
      if (new Date(record.periodStart).getTime() % HOUR !== 0) {
        throw ReliableStoreException.invalidPeriod('periodStart must be the start of an hour (UTC)');
      }
    }
    const { result } = await this.idempotent.execute(
      request.idempotencyKey,
      'usage.upsert',
      request.records,
      async (manager) => ({
        upserted: await this.usage.upsert(manager, request.records),
      }),
    );
    return result;
  }

  async query(request: ParsedRequestOf<U['query']>): Promise<{ items: UsageRecordView[]; truncated: boolean }> {
    const from = new Date(request.from);
    const to = new Date(request.to);
    if (to <= from) throw ReliableStoreException.invalidPeriod('to must be after from');
    if (to.getTime() - from.getTime() > MAX_RANGE)
      throw ReliableStoreException.invalidPeriod('the range is at most 366 days');
    const rows = await this.usage.find(from, to, request.limit + 1, request.deviceId, request.metric);
    return {
      items: rows.slice(0, request.limit).map((r) => ({
        deviceId: r.deviceId,
        periodStart: r.periodStart.toISOString(),
        metric: r.metric,
        amount: r.amount,
      })),
      truncated: rows.length > request.limit,
    };
  }
}
