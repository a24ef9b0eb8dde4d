import { METRIC_NAME_PATTERN, READING_LIMITS } from '#polystore/messaging';
import type { InvalidReading } from '../edge-store.exception.js';

/** A reading as accepted: device time, sequence number, metrics. */
export interface Reading {
  readonly seq: number;
  readonly ts: Date;
  readonly metrics: Record<string, number>;
}

const FIELDS = new Set(['seq', 'ts', 'metrics']);

/** The outcome of validating a payload: the valid readings and the refused ones, with reasons. */
export interface ValidationResult {
  readonly valid: Reading[];
  readonly invalid: InvalidReading[];
}

/**
 * Validates `{seq, ts, metrics}` or an array of them (1..1000): the contract's `deviceReadingSchema`,
 * every reading checked and reported by its index. `seq`: a non-negative safe
 * integer; `ts`: ISO 8601 or epoch milliseconds, at most 5 minutes in the future (late data is
 * fine); `metrics`: 1..100 names `[A-Za-z0-9_.:-]{1,64}` with finite numbers; each reading at most
 * 64 KB; no other field. Every problem is reported with the reading's index.
 */
export function validateReadings(payload: unknown, now = Date.now()): ValidationResult {
  const items = Array.isArray(payload) ? payload : [payload];
  if (items.length === 0) return { valid: [], invalid: [{ index: 0, reason: 'no readings' }] };
  if (items.length > READING_LIMITS.maxBatch) {
    return {
      valid: [],
      invalid: [{ index: READING_LIMITS.maxBatch, reason: `at most ${READING_LIMITS.maxBatch} readings per request` }],
    };
  }
  const valid: Reading[] = [];
  const invalid: InvalidReading[] = [];
  items.forEach((item, index) => {
    const outcome = validateOne(item, now);
    if (typeof outcome === 'string') {
      const seq = typeof (item as { seq?: unknown })?.seq === 'number' ? (item as { seq: number }).seq : undefined;
      invalid.push(seq === undefined ? { index, reason: outcome } : { index, seq, reason: outcome });
    } else {
      valid.push(outcome);
    }
  });
  return { valid, invalid };
}

function validateOne(item: unknown, now: number): Reading | string {
  if (typeof item !== 'object' || item === null || Array.isArray(item))
    return 'a reading must be an object {seq, ts, metrics}';
  const fields = Object.keys(item);
  const unknown = fields.filter((f) => !FIELDS.has(f));
  if (unknown.length > 0) return `unknown field(s): ${unknown.slice(0, 5).join(', ')}`;
  const { seq, ts, metrics } = item as { seq?: unknown; ts?: unknown; metrics?: unknown };
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) return 'seq must be a non-negative integer';
  const time = typeof ts === 'string' && ts.length <= 40 ? Date.parse(ts) : typeof ts === 'number' ? ts : Number.NaN;
  if (!Number.isFinite(time) || time < 0) return 'ts must be an ISO 8601 date-time or epoch milliseconds';
  if (time > now + READING_LIMITS.maxFutureMs) return 'ts is more than 5 minutes in the future';
  if (typeof metrics !== 'object' || metrics === null || Array.isArray(metrics))
    return 'metrics must be an object of name: number';
  const entries = Object.entries(metrics);
  if (entries.length === 0) return 'metrics must not be empty';
  if (entries.length > READING_LIMITS.maxMetrics) return `at most ${READING_LIMITS.maxMetrics} metrics per reading`;
  for (const [name, value] of entries) {
    if (!METRIC_NAME_PATTERN.test(name))
      return `metric name "${name.slice(0, 64)}" must be 1-64 characters of [A-Za-z0-9_.:-]`;
    if (typeof value !== 'number' || !Number.isFinite(value)) return `metric ${name} must be a finite number`;
  }
  if (Buffer.byteLength(JSON.stringify(item)) > READING_LIMITS.maxReadingBytes)
    return 'a reading must be at most 64 KB';
  return { seq, ts: new Date(time), metrics: metrics as Record<string, number> };
}
