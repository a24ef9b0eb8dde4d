import { Contracts, type DeviceStatus, type DeviceView, type MessageClient } from '#polystore/messaging';
import { ErrorKind, isCodedError } from '#polystore/platform';
import pLimit from 'p-limit';
import type { TenantJob } from '../tenant-job.js';
import { devicePages } from './device-pages.util.js';

const NAME = 'device-offline';
const MINUTE = 60_000;

/** A device is offline when it has sent nothing (by its readings' device time) for this long. */
export const OFFLINE_AFTER_MS = 10 * MINUTE;

/** Status changes in flight at once (each is one short transaction on one device row). */
const UPDATE_CONCURRENCY = 8;

/** What one tenant's run changed. */
export interface DeviceOfflineResult {
  readonly markedOffline: number;
  readonly markedActive: number;
}

/**
 * Offline marking: an `active` device whose last sign of life is older than
 * {@link OFFLINE_AFTER_MS} before `now` becomes `offline`; an `offline` device with a reading
 * since then becomes `active` again. The last sign of life is the later of its latest reading
 * (device time, from the edge store) and the moment it became active (its `updatedAt`: an active
 * device's last change is the one that made it active), so a device just registered or re-enabled
 * gets the same time to report as one that just sent data.
 *
 * Each change names the version the device was read at: a device changed meanwhile (409), or
 * deleted (404), is left to the next run, not reported as a failure.
 */
export const deviceOfflineJob: TenantJob<DeviceOfflineResult> = {
  name: NAME,
  description: `Devices silent for ${OFFLINE_AFTER_MS / MINUTE} minutes -> offline; back to active when data arrives`,
  intervalMs: MINUTE,
  tenantTimeoutMs: 45_000,
  concurrency: 4,

  async run(_tenant, { signal, now, messages }) {
    const cutoff = now.getTime() - OFFLINE_AFTER_MS;
    // Reactivations first: a device brought back here is then seen as active with a recent reading.
    const markedActive = await changeStatuses(
      messages,
      signal,
      'offline',
      'active',
      (_device, lastAt) => lastAt !== undefined && lastAt >= cutoff,
    );
    const markedOffline = await changeStatuses(
      messages,
      signal,
      'active',
      'offline',
      (device, lastAt) => Math.max(lastAt ?? 0, Date.parse(device.updatedAt)) < cutoff,
    );
    return { markedOffline, markedActive };
  },
};

/**
 * Pages through the devices in status `from` and moves to `to` those for which `decide` (given
 * the device and the time of its latest reading, if any) is true. Returns how many moved.
 */
async function changeStatuses(
  messages: MessageClient,
  signal: AbortSignal,
  from: DeviceStatus,
  to: DeviceStatus,
  decide: (device: DeviceView, lastAt: number | undefined) => boolean,
): Promise<number> {
  const limit = pLimit(UPDATE_CONCURRENCY);
  let changed = 0;
  for await (const page of devicePages(messages, signal, from)) {
    const lastSeen = await lastReadings(messages, page);
    const due = page.filter((device) => decide(device, lastSeen.get(device.id.toLowerCase())));
    const outcomes = await Promise.all(due.map((device) => limit(() => setStatus(messages, signal, device, to))));
    changed += outcomes.filter(Boolean).length;
  }
  return changed;
}

/** Device id (lowercase) -> time of its latest reading, for the devices that have one. */
async function lastReadings(messages: MessageClient, devices: readonly DeviceView[]): Promise<Map<string, number>> {
  const { items } = await messages.request(Contracts.edge.telemetry.lastSeen, {
    deviceIds: devices.map((device) => device.id),
  });
  return new Map(items.map((item) => [item.deviceId.toLowerCase(), Date.parse(item.lastAt)]));
}

/**
 * Sets the device's status if it is still at the version read; false when it changed or was
 * deleted meanwhile. The key names the device, the version and the target, so a retried call is
 * a replay and nothing else shares it.
 */
async function setStatus(
  messages: MessageClient,
  signal: AbortSignal,
  device: DeviceView,
  status: DeviceStatus,
): Promise<boolean> {
  signal.throwIfAborted();
  try {
    await messages.request(Contracts.reliable.devices.updateStatus, {
      idempotencyKey: `${NAME}:${device.id}:${device.version}:${status}`,
      id: device.id,
      status,
      expectedVersion: device.version,
    });
    return true;
  } catch (error) {
    if (isCodedError(error) && (error.kind === ErrorKind.CONFLICT || error.kind === ErrorKind.NOT_FOUND)) return false;
    throw error;
  }
}
