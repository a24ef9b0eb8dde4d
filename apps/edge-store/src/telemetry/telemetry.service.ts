import { Injectable } from '@nestjs/common';
import type { Contracts, ParsedRequestOf, ResponseOf } from '#polystore/messaging';
import { EdgeStoreException } from '../edge-store.exception.js';
import { ReadingRepository } from './reading.repository.js';

type Q = typeof Contracts.edge.telemetry.query;

const MAX_RANGE_MS = 366 * 24 * 3_600_000;

/** The read side: raw points (keyset-paged on ts, seq) or per-bucket aggregates. */
@Injectable()
export class TelemetryService {
  constructor(private readonly readings: ReadingRepository) {}

  async query(request: ParsedRequestOf<Q>): Promise<ResponseOf<Q>> {
    const from = new Date(request.from);
    const to = new Date(request.to);
    if (to <= from) throw EdgeStoreException.invalidQuery('to must be after from');
    if (to.getTime() - from.getTime() > MAX_RANGE_MS)
      throw EdgeStoreException.invalidQuery('the range is at most 366 days');
    if (request.bucket) {
      if (request.cursor) throw EdgeStoreException.invalidQuery('cursor applies to raw points, not buckets');
      return {
        buckets: await this.readings.buckets(request.deviceId, from, to, request.bucket, request.limit),
        nextCursor: null,
      };
    }
    const after = request.cursor ? decodeCursor(request.cursor) : undefined;
    const points = await this.readings.points(request.deviceId, from, to, request.limit + 1, after);
    const page = points.slice(0, request.limit);
    const last = page[page.length - 1];
    return {
      points: page,
      nextCursor: points.length > request.limit && last ? encodeCursor(new Date(last.ts), last.seq) : null,
    };
  }

  erase(deviceIds: readonly string[]): Promise<number> {
    return this.readings.erase(deviceIds);
  }
}

function encodeCursor(ts: Date, seq: number): string {
  return Buffer.from(JSON.stringify([ts.getTime(), seq])).toString('base64url');
}

function decodeCursor(text: string): { ts: Date; seq: number } {
  try {
    const [ms, seq] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof ms === 'number' && Number.isFinite(ms) && typeof seq === 'number' && Number.isSafeInteger(seq)) {
      return { ts: new Date(ms), seq };
    }
  } catch {
    // fall through
  }
  throw EdgeStoreException.invalidQuery('cursor is invalid');
}
