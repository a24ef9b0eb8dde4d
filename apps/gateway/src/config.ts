import {
  commonConfigShape,
  requiredInProduction,
  checkServerUrlParameters,
  serverUrlListVar,
} from '#polystore/runtime';
import { boolVar, HostListUrl, intVar, portVar, urlVar } from '#polystore/platform';
import { STORE_NAMES, serverSchemes, storeManifests, type StoreManifest } from '#polystore/catalog';
import { PLACEMENT_KINDS } from '#polystore/data-router';
import { BUILTIN_JOBS } from '#polystore/jobs';
import { z } from 'zod';
import { checkConnectionTimeout, httpLimitsShape } from './http-limits.config.js';

const placementKindVar = z.enum(PLACEMENT_KINDS as ['schema', 'database', 'dedicated']).optional();

type Prefix = StoreManifest['configPrefix'];

/**
 * Per store (from its manifest): `<PREFIX>_SERVER_URL`, the default server of new tenants'
 * placements, and `<PREFIX>_PLACEMENT_KIND`, their kind (`schema`, `database`, `dedicated`; by
 * default a schema on a PostgreSQL server, a database of its own on MySQL/MariaDB and MongoDB).
 */
function storeVariables() {
  return Object.fromEntries(
    storeManifests().flatMap((m) => [
      [
        `${m.configPrefix}_SERVER_URL`,
        urlVar(serverSchemes(m), m.defaultServerUrl).superRefine(checkServerUrlParameters),
      ],
      [`${m.configPrefix}_PLACEMENT_KIND`, placementKindVar],
    ]),
  ) as Record<`${Prefix}_SERVER_URL`, ReturnType<typeof urlVar>> &
    Record<`${Prefix}_PLACEMENT_KIND`, typeof placementKindVar>;
}

/** Environment of the gateway, validated once at boot. */
export const gatewayConfigSchema = z
  .object({
    ...commonConfigShape,
    GATEWAY_PORT: portVar(3000),
    /**
     * The internal port (`admin-port.ts`): the admin API, `/metrics`, `/docs` and `/health/ready`
     * are served there and answer 404 on GATEWAY_PORT. 0 picks a free port (tests).
     */
    ADMIN_PORT: portVar(3001),
    /** Interface of ADMIN_PORT: loopback unless opened on purpose (in a container 0.0.0.0, published on no public interface). */
    ADMIN_HOST: z
      .string()
      .regex(/^[0-9a-fA-F:.]+$|^localhost$/, 'must be an IP address or localhost')
      .default('127.0.0.1'),
    /** Tenants are `<slug>.<BASE_DOMAIN>`; the admin API is served on BASE_DOMAIN itself. */
    BASE_DOMAIN: z
      .string()
      .trim()
      .toLowerCase()
      .regex(
        /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/,
        'must be a domain name, e.g. localhost or example.com',
      )
      .default('localhost'),
    /** Bearer token of the admin API (at least 16 characters). */
    ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
    ...storeVariables(),
    /**
     * The provisioning login's server URLs (`postgres://polystore_provisioner:<password>@host:port`),
     * comma-separated; a secret, best given as PROVISIONER_URLS_FILE. A `database` or `dedicated`
     * placement asked for on a server whose URL names a store's runtime login (the defaults of
     * `npm run stack` and compose) is made with the one of that server, and gets a login of its
     * own (docs/security.md). Without it, such a placement needs its `server` given.
     */
    PROVISIONER_URLS: serverUrlListVar(),
    /** The stores this deployment runs: tenants are provisioned in each, readiness checks each. */
    STORES: z
      .string()
      .default('secure,reliable,edge')
      .transform((v) => [
        ...new Set(
          v
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
        ),
      ])
      .refine((list) => list.length > 0 && list.every((s) => (STORE_NAMES as readonly string[]).includes(s)), {
        message: `must be a comma-separated list of ${STORE_NAMES.join(', ')}`,
      }),
    /** Largest request body, in bytes (larger bodies get 413). */
    BODY_LIMIT_BYTES: intVar(1_048_576, 1_024, 64 * 1_048_576),
    ...httpLimitsShape,
    /**
     * How long past CATALOG_CACHE_TTL_MS a known tenant, placement or API key is still served while
     * the system database cannot be read (a change event still drops it at once); 0 = never.
     */
    CATALOG_STALE_MS: intVar(300_000, 0, 86_400_000),
    /** Time a store has to answer a readiness ping. */
    READY_TIMEOUT_MS: intVar(1_000, 50, 30_000),
    /** A saga's lease: how soon another gateway resumes the sagas of one that died. */
    SAGA_LEASE_MS: intVar(10_000, 100, 600_000),
    /** How often the recovery sweeper looks for sagas whose owner died. */
    SAGA_SWEEP_INTERVAL_MS: intVar(2_000, 0, 600_000),
    /**
     * How long a saga step whose store does not answer (down, restarting, past its deadline) is
     * retried before the saga gives up on it and compensates.
     */
    SAGA_UNKNOWN_OUTCOME_WINDOW_MS: intVar(120_000, 1_000, 86_400_000),
    /**
     * The same window for a compensation (an undo whose store does not answer) before the saga is
     * parked COMPENSATION_FAILED for an operator; unset, SAGA_UNKNOWN_OUTCOME_WINDOW_MS.
     */
    SAGA_COMPENSATION_WINDOW_MS: z.coerce.number().int().min(1_000).max(86_400_000).optional(),
    /**
     * How long a device registration may run (time spent waiting for a store that does not answer
     * not counted) before it stops and is undone; a 202 holds its place in the devices quota that long.
     */
    SAGA_DEVICE_REGISTRATION_DEADLINE_MS: intVar(60_000, 1_000, 3_600_000),
    /**
     * How long an operator's `Idempotency-Key` on `POST /admin/sagas/:id/retry|skip` is remembered
     * (the same variable as the stores' keys); the saga sweeper deletes older ones.
     */
    IDEMPOTENCY_TTL_MS: intVar(24 * 3_600_000, 60_000),
    /** Jobs this gateway schedules (once across replicas): comma-separated names, empty for none. */
    JOBS: z
      .string()
      .default('usage-rollup,device-offline,idempotency-purge,audit-checkpoint')
      .transform((v) => [
        ...new Set(
          v
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
        ),
      ])
      .refine((list) => list.every((name) => BUILTIN_JOBS.some((job) => job.name === name)), {
        message: `must be a comma-separated list of ${BUILTIN_JOBS.map((job) => job.name).join(', ')} (or empty)`,
      }),
    /** Interval overrides, `name=ms,...` (tests, operations); the jobs' own intervals otherwise. */
    JOB_INTERVALS: z
      .string()
      .default('')
      .transform((v, ctx) => {
        const intervals: Record<string, number> = {};
        for (const entry of v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)) {
          const [name, ms] = entry.split('=');
          const value = Number(ms);
          if (!name || !BUILTIN_JOBS.some((job) => job.name === name) || !Number.isInteger(value) || value < 100) {
            ctx.addIssue({ code: 'custom', message: `"${entry}" must be <job>=<milliseconds ≥ 100>` });
            return z.NEVER;
          }
          intervals[name] = value;
        }
        return intervals;
      }),
    /** A job run's lease: how soon another replica resumes the run of one that died. */
    JOB_LEASE_MS: intVar(30_000, 100, 600_000),
    /** How often due job slots and abandoned runs are looked for. */
    JOB_TICK_MS: intVar(5_000, 10, 600_000),
    /** Time a store has to create and migrate a tenant's database. */
    PROVISION_TIMEOUT_MS: intVar(60_000, 1_000, 600_000),
    /**
     * How long a deleted tenant's data is kept (restorable, its slug free at once) before it is
     * destroyed; 0 destroys it during the `DELETE` itself.
     */
    TENANT_DELETION_GRACE_MS: intVar(7 * 24 * 3_600_000, 0),
    /** How often each gateway looks for deleted tenants whose grace period is over. */
    TENANT_PURGE_INTERVAL_MS: intVar(60_000, 100, 86_400_000),
    /**
     * Default per-tenant quotas (a tenant's own, set through `/admin/tenants/:slug/quotas`, win):
     * registered devices, customers, and bytes of the tenant's data across its stores; 0 = unlimited.
     */
    QUOTA_DEVICES: intVar(0, 0),
    QUOTA_CUSTOMERS: intVar(0, 0),
    QUOTA_STORAGE_BYTES: intVar(0, 0),
    /** How old a tenant's storage measurement may get before it is measured again (never per request). */
    QUOTA_STORAGE_REFRESH_MS: intVar(300_000, 100, 86_400_000),
    /** The operations console (`/console`, admin port, docs/console.md); `false`: every console route answers 404. */
    CONSOLE_ENABLED: boolVar(true),
    /** How long a console session lasts after its login, in seconds (the cookie's Max-Age); no renewal. */
    CONSOLE_SESSION_TTL_S: intVar(28_800, 60, 7 * 86_400),
    /** How often the console's plot sampler keeps a point (its ring holds 360: an hour at the default 10 s). */
    CONSOLE_PLOT_INTERVAL_MS: intVar(10_000, 100, 60_000),
  })
  .superRefine(requiredInProduction(['MASTER_KEY', 'ADMIN_TOKEN', 'CONTEXT_SIGNING_KEY', 'CONTEXT_STORE_KEYS']))
  .superRefine(checkConnectionTimeout)
  .superRefine((config, ctx) => {
    if (config.ADMIN_PORT !== 0 && config.ADMIN_PORT === config.GATEWAY_PORT)
      ctx.addIssue({ code: 'custom', path: ['ADMIN_PORT'], message: 'must differ from GATEWAY_PORT' });
  })
  .superRefine((config, ctx) => {
    for (const { configPrefix: store } of storeManifests()) {
      const kind = config[`${store}_PLACEMENT_KIND`];
      if (kind === 'schema' && !/^postgres(ql)?:$/.test(HostListUrl.parse(config[`${store}_SERVER_URL`]).url.protocol))
        ctx.addIssue({
          code: 'custom',
          path: [`${store}_PLACEMENT_KIND`],
          message: `schema needs a PostgreSQL ${store}_SERVER_URL`,
        });
    }
  });

export type GatewayConfig = z.output<typeof gatewayConfigSchema>;

/** Injection token of {@link GatewayConfig}. */
export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');

/** Injection token of the resolved admin token. */
export const ADMIN_TOKEN = Symbol('ADMIN_TOKEN');

/** Injection token of the master key's derivation root (`MasterKeyring.derivationRoot`; device tokens derive from it). */
export const MASTER_KEY = Symbol('MASTER_KEY');
