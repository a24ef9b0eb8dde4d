import { STORE_NAMES } from '#polystore/messaging';

/** The storage services, each owning one database per tenant (defined with the gateway's request schemas). */
export { STORE_NAMES };
export type StoreName = (typeof STORE_NAMES)[number];

/** Type guard for {@link StoreName}. */
export function isStoreName(value: unknown): value is StoreName {
  return typeof value === 'string' && (STORE_NAMES as readonly string[]).includes(value);
}
