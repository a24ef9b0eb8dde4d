// Creating and deleting the bench tenants through the gateway's admin API, the way a user would.
import { mapLimit } from './concurrency.mjs';
import { expectStatus, request } from './http.mjs';

/** The slugs of this run: `bench-<runId>-001`, `-002`, ... (valid tenant slugs). */
export function tenantSlugs(runId, count) {
  return Array.from({ length: count }, (_, i) => `bench-${runId}-${String(i + 1).padStart(3, '0')}`);
}

/** The secure store's default database name of a tenant (`ps_secure_<slug with - as _>`). */
export function secureDatabaseOf(slug) {
  return `ps_secure_${slug.replaceAll('-', '_')}`;
}

/** Creates one tenant (admin API) and its one customer (tenant API); returns what the load needs. */
async function createTenant({ gatewayPort, settings, slug, index, created }) {
  const admin = { port: gatewayPort, host: settings.baseDomain, token: settings.adminToken };
  const { apiKey } = await expectStatus(201, {
    ...admin,
    method: 'POST',
    path: '/admin/tenants',
    body: { slug, name: `Bench ${slug}` },
  });
  created.add(slug);
  const host = `${slug}.${settings.baseDomain}`;
  const customer = await expectStatus(201, {
    port: gatewayPort,
    host,
    token: apiKey,
    method: 'POST',
    path: '/v1/customers',
    body: {
      name: `Bench Customer ${index + 1}`,
      email: `customer${index + 1}@${settings.baseDomain}`,
      phone: '+44 20 7946 0000',
    },
  });
  return { slug, host, apiKey, customerId: customer.id, database: secureDatabaseOf(slug) };
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

/**
 * Creates `count` tenants with one customer each, `settings.adminConcurrency` at a time. Every
 * tenant the gateway confirmed is added to `created` at once, so cleanup can delete it even if
 * a later step fails. Throws the first failure after the others have finished.
 */
export async function createTenants({ gatewayPort, settings, count, created, signal, log }) {
  const slugs = tenantSlugs(settings.runId, count);
  const tick = progressPrinter('created', count, log);
  const outcomes = await mapLimit(
    slugs,
    settings.adminConcurrency,
    async (slug, index) => {
      const tenant = await createTenant({ gatewayPort, settings, slug, index, created });
      tick();
      return tenant;
    },
    { signal },
  );
  if (signal?.aborted) throw new Error('interrupted while creating tenants');
  const failed = outcomes.filter((o) => !o.ok);
  if (failed.length > 0)
    throw new Error(`${failed.length} of ${count} tenants could not be created; first: ${failed[0].error.message}`);
  return outcomes.map((o) => o.value);
}

/**
 * Deletes tenants through the admin API (which drops their databases), best effort.
 * Returns the slugs that could not be deleted (the caller drops their databases directly).
 */
export async function deleteTenants({ gatewayPort, settings, slugs, log }) {
  if (slugs.length === 0) return [];
  const tick = progressPrinter('deleted', slugs.length, log);
  const outcomes = await mapLimit([...slugs], settings.adminConcurrency, async (slug) => {
    const response = await request({
      port: gatewayPort,
      host: settings.baseDomain,
      token: settings.adminToken,
      method: 'DELETE',
      path: `/admin/tenants/${slug}`,
    });
    if (response.status !== 204 && response.status !== 404)
      throw new Error(`${response.status} ${response.text.slice(0, 200)}`);
    tick();
  });
  return [...slugs].filter((_, i) => !outcomes[i]?.ok);
}
