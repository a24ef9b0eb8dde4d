import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DatabaseAdmin, DataSourceRouter } from '#polystore/data-router';
import { parseTenantSlug, runAsTenant } from '#polystore/tenancy';
import type { EntityManager } from 'typeorm';
import { eventually } from '../../../test/support/eventually.js';
import { uniqueToken } from '../../../test/support/ids.js';
import { TestServices } from '../../../test/support/services.js';
import { OutboxRepository } from '../src/outbox/outbox.repository.js';
import { RELIABLE_SCHEMA } from '../src/reliable.schema.js';

const SERVERS = [
  ['MariaDB', TestServices.mariadbUrl],
  ['PostgreSQL', TestServices.postgresUrl],
] as const;

/** The session id of `manager`'s connection, as the server's lock views show it. */
async function sessionId(manager: EntityManager): Promise<number> {
  const postgres = manager.connection.options.type === 'postgres';
  const rows = await manager.query<Array<{ id: number | string }>>(
    postgres ? 'SELECT pg_backend_pid() AS id' : 'SELECT CONNECTION_ID() AS id',
  );
  return Number(rows[0]!.id);
}

/** True while session `id` waits for a lock. */
async function waitsForLock(db: EntityManager, id: number): Promise<boolean> {
  const rows: unknown[] =
    db.connection.options.type === 'postgres'
      ? await db.query('SELECT 1 FROM pg_locks WHERE pid = $1 AND NOT granted', [id])
      : await db.query(
          `SELECT 1 FROM information_schema.INNODB_TRX WHERE trx_mysql_thread_id = ? AND trx_state = 'LOCK WAIT'`,
          [id],
        );
  return rows.length > 0;
}

/**
 * The outbox's `seq` order must be its commit order, or the relay publishes a tenant's events out
 * of order (seen in CI on MariaDB: two concurrent registrations relayed swapped). An append
 * therefore waits for any earlier append of the tenant that has not committed yet.
 */
describe.each(SERVERS)('reliable outbox - seq order is commit order, on real %s', (_name, serverUrl) => {
  const database = `ps_rt_outbox_${uniqueToken(6)}`;
  const tenant = parseTenantSlug('outbox-order');
  const outbox = new OutboxRepository();
  let router: DataSourceRouter;
  const inTenant = <T>(work: () => Promise<T>) => runAsTenant(tenant, work, 30_000);
  const appendIn = (manager: EntityManager, n: number) =>
    outbox.append(manager, {
      type: 'device.created',
      deviceId: `00000000-0000-4000-8000-00000000000${n}`,
      status: 'pending',
      version: 1,
    });

  beforeAll(async () => {
    await DatabaseAdmin.ensureDatabase(serverUrl, database);
    router = new DataSourceRouter({
      name: 'outbox-order-test',
      resolvePlacement: (t) => Promise.resolve({ tenant: t, serverUrl, database, kind: 'database', version: 1 }),
      schema: RELIABLE_SCHEMA,
      poolSize: 4,
      connectionBudget: 8,
      // Two open transactions of the tenant and a third unit watching the server's lock view.
      tenantCap: 4,
      idleTtlMs: 60_000,
      maxWaiters: 100,
      acquireTimeoutMs: 5_000,
      breaker: { consecutiveFailures: 5, halfOpenAfterMs: 1_000 },
      applicationName: 'outbox-order-test',
    });
    await inTenant(() => router.migrate());
  });

  afterAll(async () => {
    await router.close();
    await DatabaseAdmin.dropDatabase(serverUrl, database);
  });

  it('an append waits until an earlier uncommitted append of the tenant commits', async () => {
    const steps: string[] = [];
    let commitFirst!: () => void;
    const firstMayCommit = new Promise<void>((resolve) => (commitFirst = resolve));
    let second = 0;

    const first = inTenant(() =>
      router.transaction(async (m) => {
        await appendIn(m, 1);
        steps.push('first appended');
        await firstMayCommit;
        steps.push('first commits');
      }),
    );
    await eventually(() => steps.includes('first appended'), { what: 'the first append' });
    const later = inTenant(() =>
      router.transaction(async (m) => {
        second = await sessionId(m);
        await appendIn(m, 2);
        steps.push('second appended');
      }),
    );
    await eventually(() => second > 0 && inTenant(() => router.run((db) => waitsForLock(db, second))), {
      what: 'the second append waiting for the first to commit',
    });
    expect(steps).toEqual(['first appended']);

    commitFirst();
    await Promise.all([first, later]);
    expect(steps).toEqual(['first appended', 'first commits', 'second appended']);
    const rows = await inTenant(() =>
      router.run((db) => db.query<Array<{ payload: string }>>('SELECT payload FROM outbox ORDER BY seq')),
    );
    expect(rows.map((r) => (JSON.parse(r.payload) as { deviceId: string }).deviceId.slice(-1))).toEqual(['1', '2']);
  });
});
