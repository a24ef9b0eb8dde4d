/** The storage services, each owning one database per tenant. */
export const STORE_NAMES = ['secure', 'reliable', 'edge'] as const;
export type StoreName = (typeof STORE_NAMES)[number];

/** Type guard for {@link StoreName}. */
export function isStoreName(value: unknown): value is StoreName {
  return typeof value === 'string' && (STORE_NAMES as readonly string[]).includes(value);
}
