/**
 * The tenant slug rule, the one place it is spelled: 2 to 40 characters, a lowercase letter then
 * lowercase letters, digits and hyphens. It is a DNS label (tenant hosts are `<slug>.<BASE_DOMAIN>`)
 * and safe in a database name, a NATS subject token and an MQTT topic level. `libs/tenancy`'s
 * `TenantSlug` type, the contracts' schema, the gateway's DTOs, device credentials and tokens
 * and the CLI all check it through this constant (the catalog's original migration keeps its
 * own copy as a CHECK constraint).
 */
export const TENANT_SLUG_PATTERN = /^[a-z][a-z0-9-]{1,39}$/;

/** `must match <the pattern>`: the end of a message refusing a slug. */
export const TENANT_SLUG_RULE = `must match ${TENANT_SLUG_PATTERN.source}`;
