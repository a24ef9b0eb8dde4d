import { createHash } from 'node:crypto';
import { Contracts, type HourlyReadings, type MessageClient, type UsageRecordView } from '#polystore/messaging';
import type { TenantJob } from '../tenant-job.js';
import { devicePages } from './device-pages.util.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** Metric name of the usage records the rollup writes: readings stored per device per hour. */
export const READINGS_METRIC = 'readings';

/**
 * How far back each run recounts: from the start of the hour that was `now - 2 h`, so the current
 * (partial) hour and the two before it. Readings that arrive later than that with an older device
 * time are stored but not counted.
 */
export const USAGE_ROLLUP_LOOKBACK_MS = 2 * HOUR;

const NAME = 'usage-rollup';

/** Records per `reliable.usage.upsert` call (the contract's maximum). */
const UPSERT_BATCH = 1_000;

/** What one tenant's rollup did. */
export interface UsageRollupResult {
  /** Devices with readings in the window. */
  readonly devices: number;
  /** Usage records (device, hour) set in the ledger (or found already up to date). */
  readonly records: number;
}

/**
 * Usage rollup: for every registered device of the tenant, the readings per hour (UTC, by
 * device time) of the last hours, from the edge store, written to the reliable store's ledger as
 * usage records `(device, hour, 'readings')`. Each record is set to the absolute count (the
 * ledger upserts on its natural key with "set" semantics), so rerunning, or recounting an hour
 * that got more data, never adds twice. Each batch carries an idempotency key derived from its
 * content: a batch that changed nothing since the last run is a replay, no write.
 */
export const usageRollupJob: TenantJob<UsageRollupResult> = {
  name: NAME,
  description: 'Readings per device per hour (edge store) -> usage records in the reliable store',
  intervalMs: 5 * MINUTE,
  tenantTimeoutMs: 2 * MINUTE,
  concurrency: 4,

  async run(_tenant, { signal, now, messages }) {
    const window = rollupWindow(now);
    let devices = 0;
    let records = 0;
    for await (const page of devicePages(messages, signal)) {
      const { items } = await messages.request(Contracts.edge.telemetry.hourly, {
        deviceIds: page.map((device) => device.id),
        from: window.from.toISOString(),
        to: window.to.toISOString(),
      });
      if (items.length === 0) continue;
      await upsertUsage(messages, items.map(toUsageRecord));
      devices += new Set(items.map((item) => item.deviceId)).size;
      records += items.length;
    }
    return { devices, records };
  },
};

/** `[start of the hour of now - lookback, now)`: the hours the rollup (re)counts. */
export function rollupWindow(now: Date): { from: Date; to: Date } {
  const from = Math.floor((now.getTime() - USAGE_ROLLUP_LOOKBACK_MS) / HOUR) * HOUR;
  return { from: new Date(from), to: now };
}

function toUsageRecord(item: HourlyReadings): UsageRecordView {
  return { deviceId: item.deviceId, periodStart: item.hour, metric: READINGS_METRIC, amount: item.readings };
}

async function upsertUsage(messages: MessageClient, records: readonly UsageRecordView[]): Promise<void> {
  for (let i = 0; i < records.length; i += UPSERT_BATCH) {
    const batch = records.slice(i, i + UPSERT_BATCH);
    await messages.request(Contracts.reliable.usage.upsert, { idempotencyKey: rollupKey(batch), records: batch });
  }
}

/**
 * The batch's idempotency key: a digest of the job and of every (device, hour, metric, amount)
 * in it, so the same counts give the same key (a replay, nothing written) and any change of an
 * amount gives a new key (the new amounts are set).
 */
function rollupKey(records: readonly UsageRecordView[]): string {
  const digest = createHash('sha256');
  for (const r of records) digest.update(`${r.deviceId}|${r.periodStart}|${r.metric}|${r.amount}\n`);
  return `${NAME}:${digest.digest('hex')}`;
}
