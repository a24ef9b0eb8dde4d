import type { DeviceStatus } from '#polystore/messaging';

/** Allowed status changes. `pending` is a device being registered (saga): never served as final. */
const TRANSITIONS: Record<DeviceStatus, readonly DeviceStatus[]> = {
  pending: ['active', 'disabled'],
  active: ['offline', 'disabled'],
  offline: ['active', 'disabled'],
  disabled: ['active'],
};

export function canTransition(from: DeviceStatus, to: DeviceStatus): boolean {
  return TRANSITIONS[from].includes(to);
}
