import { serverSchemes, storeManifests, type StoreManifest } from '#polystore/catalog';
import { checkServerUrlParameters, commonConfigShape, serverUrlListVar } from '#polystore/runtime';
import { base64KeyVar, intVar, urlVar } from '#polystore/platform';
import { z } from 'zod';

/**
 * `ops worker`: each store's default server (`<PREFIX>_SERVER_URL`, the gateway's variables),
 * the administrative URL a move to "the store's default server" uses.
 */
function storeServerVariables() {
  return Object.fromEntries(
    storeManifests().map((m) => [
      `${m.configPrefix}_SERVER_URL`,
      urlVar(serverSchemes(m), m.defaultServerUrl).superRefine(checkServerUrlParameters),
    ]),
  ) as Record<`${StoreManifest['configPrefix']}_SERVER_URL`, ReturnType<typeof urlVar>>;
}

/** Environment of the CLI: the same variables as the services, plus where the gateway is. */
export const cliConfigSchema = z.object({
  ...commonConfigShape,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('warn'),
  /**
   * The gateway's admin port (its ADMIN_PORT), for what goes through its admin API: tenant
   * creation and deletion (sagas the gateway drives), sagas.
   */
  GATEWAY_ADMIN_URL: urlVar(['http:', 'https:'], 'http://127.0.0.1:3001'),
  /** The former name, when it pointed at the public port: refused, so it never silently calls a port without the admin API. */
  GATEWAY_URL: z
    .string()
    .optional()
    .refine((v) => v === undefined, {
      message: "renamed GATEWAY_ADMIN_URL: the gateway's admin API is on its ADMIN_PORT (3001), not its public port",
    }),
  BASE_DOMAIN: z.string().trim().toLowerCase().default('localhost'),
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /** Lease of a CLI run: how soon a run of a killed CLI can be resumed. */
  JOB_LEASE_MS: intVar(15_000, 100, 600_000),
  ...storeServerVariables(),
  /**
   * `ops worker`: the lease on the operation it runs (renewed every third of it): how soon the
   * operation of a killed worker is taken over by another.
   */
  OPS_LEASE_MS: intVar(15_000, 500, 600_000),
  /** `ops worker`: how often an idle worker looks for a queued operation. */
  OPS_POLL_MS: intVar(1_000, 50, 60_000),
  /** Root of every device-broker key (base64 of 32 bytes); outside production, the dev secrets file's. */
  DEVICE_BROKER_KEY: base64KeyVar(32).optional(),
  /** The device broker's NATS clients; `broker config` takes its default client port from it. */
  DEVICE_BROKER_URL: urlVar(['nats:'], 'nats://127.0.0.1:4223'),
  /** The device broker's MQTT listener (devices). */
  EDGE_MQTT_PORT: intVar(1884, 1, 65_535),
  /**
   * `db-roles`: administrative URLs (a superuser, used once) of the database servers whose
   * Polystore logins it creates, comma-separated; a secret, best given as DB_ADMIN_URLS_FILE.
   */
  DB_ADMIN_URLS: serverUrlListVar(),
  /**
   * Moves (`tenants move`, `ops worker`): the provisioning login's server URLs
   * (`postgres://polystore_provisioner:<password>@host:port`), comma-separated, for the servers
   * whose placements name a store's runtime login instead (docs/security.md): the move fences,
   * copies and cleans up with the provisioning login, and the placement keeps its URL's login. A
   * secret, best given as PROVISIONER_URLS_FILE.
   */
  PROVISIONER_URLS: serverUrlListVar(),
});

export type CliConfig = z.output<typeof cliConfigSchema>;
