import { Injectable } from '@nestjs/common';
import {
  MAX_HOURLY_WINDOW_MS,
  type Contracts,
  type HourlyReadings,
  type LastSeen,
  type ParsedRequestOf,
  type ResponseOf,
} from '#polystore/messaging';
import { EdgeStoreException } from '../edge-store.exception.js';
import { ReadingRepository } from './reading.repository.js';

type Q = typeof Contracts.edge.telemetry.query;
type H = typeof Contracts.edge.telemetry.hourly;

const MAX_RANGE_MS = 366 * 24 * 3_600_000;

/** The read side: raw points (keyset-paged on ts, seq), per-bucket aggregates, and what jobs read. */
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

  /** Readings per device per hour in a window of at most `MAX_HOURLY_WINDOW_MS`. */
  async hourly(request: ParsedRequestOf<H>): Promise<HourlyReadings[]> {
    const from = new Date(request.from);
    const to = new Date(request.to);
    if (to <= from) throw EdgeStoreException.invalidQuery('to must be after from');
    if (to.getTime() - from.getTime() > MAX_HOURLY_WINDOW_MS)
      throw EdgeStoreException.invalidQuery(`the window is at most ${MAX_HOURLY_WINDOW_MS / 3_600_000} hours`);
    return this.readings.hourlyCounts(distinct(request.deviceIds), from, to);
  }

  lastSeen(deviceIds: readonly string[]): Promise<LastSeen[]> {
    return this.readings.lastSeen(distinct(deviceIds));
  }

  erase(deviceIds: readonly string[]): Promise<number> {
    return this.readings.erase(deviceIds);
  }
}

/** Device ids once each, lowercase (as PostgreSQL's `uuid` prints them and MongoDB stores them). */
function distinct(deviceIds: readonly string[]): string[] {
  return [...new Set(deviceIds.map((id) => id.toLowerCase()))];
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
