// Creating and deleting the bench tenants through the gateway's admin API (on its admin port), the
// way a user would, and reading back where each tenant's data was placed (GET /admin/tenants).
import { mapLimit } from './concurrency.mjs';
import { expectStatus, request } from './http.mjs';

/**
 * The slugs of one group of this run's tenants: `<prefix>-<runId>-0001`, `-0002`, ... (valid
 * tenant slugs). Prefixes: `bench` (schema placements), `benchd` (database placements),
 * `bencha` (every store running).
 */
export function tenantSlugs(prefix, runId, count) {
  return Array.from({ length: count }, (_, i) => `${prefix}-${runId}-${String(i + 1).padStart(4, '0')}`);
}

/** Prints "created 40/300 (12.3/s)" every ~10% and at the end. */
function progressPrinter(label, total, log) {
  const started = Date.now();
  const step = Math.max(1, Math.round(total / 10));
  let done = 0;
  return () => {
    done++;
    if (done % step === 0 || done === total) {
      const seconds = (Date.now() - started) / 1000;
      log(`  ${label} ${done}/${total} (${(done / seconds).toFixed(1)}/s, ${seconds.toFixed(0)} s)`);
    }
  };
}

/** The `p`-th percentile of `values` (nearest rank), or null. */
function percentile(values, p) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/**
 * Creates one tenant per slug through `POST /admin/tenants` (`placements`: the body's placement
 * choices, e.g. `[{ store: 'secure', kind: 'database' }]`, or none for the defaults),
 * `settings.adminConcurrency` at a time, and times it: the provisioning measurement. Every
 * tenant the gateway confirmed is added to `created` at once, so cleanup can delete it even if
 * a later step fails. Throws the first failure after the others have finished.
 * Returns `{ tenants: [{ slug, host, apiKey }], timing }`.
 */
export async function createTenants({ adminPort, settings, slugs, placements, created, signal, log, label }) {
  const admin = { port: adminPort, host: settings.baseDomain, token: settings.adminToken };
  const tick = progressPrinter(`${label}: created`, slugs.length, log);
  const latencies = [];
  const started = performance.now();
  const outcomes = await mapLimit(
    slugs,
    settings.adminConcurrency,
    async (slug) => {
      const t0 = performance.now();
      const response = await request({
        ...admin,
        method: 'POST',
        path: '/admin/tenants',
        body: { slug, name: `Bench ${slug}`, ...(placements ? { placements } : {}) },
        timeoutMs: 120_000,
      });
      if (response.status !== 201)
        throw new Error(
          `POST /admin/tenants (${slug}): expected 201, got ${response.status} ${response.text.slice(0, 500)}`,
        );
      latencies.push(performance.now() - t0);
      created.add(slug);
      tick();
      return { slug, host: `${slug}.${settings.baseDomain}`, apiKey: response.body.apiKey };
    },
    { signal },
  );
  const wallMs = performance.now() - started;
  if (signal?.aborted) throw new Error('interrupted while creating tenants');
  const failed = outcomes.filter((o) => !o.ok);
  if (failed.length > 0)
    throw new Error(
      `${failed.length} of ${slugs.length} tenants could not be created; first: ${failed[0].error.message}`,
    );
  const round = (n) => (n === null ? null : Math.round(n * 10) / 10);
  return {
    tenants: outcomes.map((o) => o.value),
    timing: {
      tenants: slugs.length,
      concurrency: settings.adminConcurrency,
      placements: placements ?? null,
      wallMs: Math.round(wallMs),
      tenantsPerSecond: Math.round((slugs.length / (wallMs / 1000)) * 100) / 100,
      latencyMs: {
        mean: round(latencies.reduce((a, b) => a + b, 0) / latencies.length),
        p50: round(percentile(latencies, 50)),
        p90: round(percentile(latencies, 90)),
        p99: round(percentile(latencies, 99)),
        max: round(Math.max(...latencies)),
      },
    },
  };
}

/** Creates one customer per tenant (tenant API), `settings.adminConcurrency` at a time; sets `customerId`. */
export async function createCustomers({ gatewayPort, settings, tenants, signal, log }) {
  const tick = progressPrinter('customers', tenants.length, log);
  const outcomes = await mapLimit(
    tenants,
    settings.adminConcurrency,
    async (tenant, index) => {
      const customer = await expectStatus(201, {
        port: gatewayPort,
        host: tenant.host,
        token: tenant.apiKey,
        method: 'POST',
        path: '/v1/customers',
        body: {
          name: `Bench Customer ${index + 1}`,
          email: `customer${index + 1}@${settings.baseDomain}`,
          phone: '+44 20 7946 0000',
        },
      });
      tenant.customerId = customer.id;
      tick();
    },
    { signal },
  );
  if (signal?.aborted) throw new Error('interrupted while creating customers');
  const failed = outcomes.filter((o) => !o.ok);
  if (failed.length > 0)
    throw new Error(`${failed.length} customers could not be created; first: ${failed[0].error.message}`);
}

/** `GET /admin/tenants`: every tenant's placements, by slug (`{ store, kind, server, database, schema?, version }`). */
export async function listPlacements({ adminPort, settings }) {
  const { items } = await expectStatus(200, {
    port: adminPort,
    host: settings.baseDomain,
    token: settings.adminToken,
    path: '/admin/tenants',
  });
  return new Map(items.map((t) => [t.slug, t.placements]));
}

/** Adds each tenant's secure placement (`placement`: `{ kind, database, schema? }`) from the listing. */
export function attachSecurePlacements(tenants, placementsBySlug) {
  for (const tenant of tenants) {
    const placement = placementsBySlug.get(tenant.slug)?.find((p) => p.store === 'secure');
    if (!placement) throw new Error(`GET /admin/tenants lists no secure placement for ${tenant.slug}`);
    tenant.placement = placement;
  }
}

/**
 * Deletes tenants through the admin API (which drops their schemas and databases), best effort.
 * Returns the slugs that could not be deleted (the caller drops what is left directly).
 */
export async function deleteTenants({ adminPort, settings, slugs, log }) {
  if (slugs.length === 0) return [];
  const tick = progressPrinter('deleted', slugs.length, log);
  const outcomes = await mapLimit([...slugs], settings.adminConcurrency, async (slug) => {
    const response = await request({
      port: adminPort,
      host: settings.baseDomain,
      token: settings.adminToken,
      method: 'DELETE',
      path: `/admin/tenants/${slug}`,
      timeoutMs: 120_000,
    });
    if (response.status !== 204 && response.status !== 404)
      throw new Error(`${response.status} ${response.text.slice(0, 200)}`);
    tick();
  });
  return [...slugs].filter((_, i) => !outcomes[i]?.ok);
}
