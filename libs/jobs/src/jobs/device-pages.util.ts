import {
  Contracts,
  MAX_TELEMETRY_DEVICES,
  type DeviceStatus,
  type DeviceView,
  type MessageClient,
} from '#polystore/messaging';

/**
 * Devices per page: what the edge telemetry contracts take in one call, which is also the
 * maximum of `reliable.devices.list`.
 */
export const DEVICE_PAGE_SIZE = MAX_TELEMETRY_DEVICES;

/**
 * The current tenant's devices (optionally of one status), one page at a time, newest first.
 * The list is keyset-paged on (created_at, id), so changing the status of a page's devices
 * before asking for the next page neither skips nor repeats a device. Stops with the signal's
 * reason when it is aborted.
 */
export async function* devicePages(
  messages: MessageClient,
  signal: AbortSignal,
  status?: DeviceStatus,
): AsyncGenerator<DeviceView[]> {
  let cursor: string | undefined;
  do {
    signal.throwIfAborted();
    const page = await messages.request(Contracts.reliable.devices.list, {
      limit: DEVICE_PAGE_SIZE,
      ...(status ? { status } : {}),
      ...(cursor ? { cursor } : {}),
    });
    if (page.items.length > 0) yield page.items;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
}
