import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DatabaseAdmin, DataSourceRouter, classifySqlError } from '#polystore/data-router';
import {
  IdempotencyErrorCode,
  IdempotencyKeyEntity,
  IdempotentExecutor,
  createIdempotencyTable,
  keyStatesUp,
  dropIdempotencyTable,
} from '#polystore/idempotency';
import { parseTenantSlug, runAsTenant } from '#polystore/tenancy';
import {
  Column,
  Entity,
  PrimaryColumn,
  Table,
  type EntityManager,
  type MigrationInterface,
  type QueryRunner,
} from 'typeorm';
import { eventually } from '../../../test/support/eventually.js';
import { uniqueToken } from '../../../test/support/ids.js';
import { TestServices } from '../../../test/support/services.js';

@Entity({ name: 'effects' })
class EffectEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id!: string;

  @Column({ type: 'int' })
  applied!: number;
}

class EffectsInit1700000000000 implements MigrationInterface {
  name = 'EffectsInit1700000000000';
  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'effects',
        columns: [
          { name: 'id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'applied', type: 'int' },
        ],
      }),
    );
    await createIdempotencyTable(q);
    await keyStatesUp(q);
  }
  async down(q: QueryRunner): Promise<void> {
    await dropIdempotencyTable(q);
    await q.dropTable('effects');
  }
}

const SERVERS = [
  ['MariaDB', TestServices.mariadbUrl],
  ['PostgreSQL', TestServices.postgresUrl],
] as const;

describe.each(SERVERS)('idempotency - at most once per key, on real %s', (_name, serverUrl) => {
  const database = `ps_rt_idem_${uniqueToken(6)}`;
  const tenant = parseTenantSlug('idem-test');
  let router: DataSourceRouter;
  let executor: IdempotentExecutor;

  const inTenant = <T>(work: () => Promise<T>) => runAsTenant(tenant, work, 30_000);
  const bump = (manager: EntityManager, id: string) =>
    manager
      .createQueryBuilder()
      .update(EffectEntity)
      .set({ applied: () => 'applied + 1' })
      .where('id = :id', { id })
      .execute();
  const applied = (id: string) =>
    inTenant(() => router.run(async (ds) => (await ds.getRepository(EffectEntity).findOneByOrFail({ id })).applied));
  const seed = (...ids: string[]) =>
    inTenant(() => router.run((ds) => ds.getRepository(EffectEntity).insert(ids.map((id) => ({ id, applied: 0 })))));

  beforeAll(async () => {
    await DatabaseAdmin.ensureDatabase(serverUrl, database);
    router = new DataSourceRouter({
      name: 'idem-test',
      resolvePlacement: (t) => Promise.resolve({ tenant: t, serverUrl, database, kind: 'database', version: 1 }),
      schema: { entities: [EffectEntity, IdempotencyKeyEntity], migrations: [EffectsInit1700000000000] },
      poolSize: 10,
      connectionBudget: 20,
      idleTtlMs: 60_000,
      maxWaiters: 100,
      acquireTimeoutMs: 5_000,
      breaker: { consecutiveFailures: 5, halfOpenAfterMs: 1_000 },
      applicationName: 'idem-test',
    });
    await inTenant(() => router.migrate());
    executor = new IdempotentExecutor(router, { ttlMs: 60_000 });
  });

  afterAll(async () => {
    await router.close();
    await DatabaseAdmin.dropDatabase(serverUrl, database);
  });

  it('20 concurrent duplicates of one request apply the effect once and all get the same answer', async () => {
    await seed('dup');
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        inTenant(() =>
          executor.execute('key-dup', 'op', { n: 1 }, async (manager) => {
            await bump(manager, 'dup');
            return { token: uniqueToken(12) };
          }),
        ),
      ),
    );
    expect(new Set(answers.map((a) => a.result.token)).size).toBe(1);
    expect(answers.filter((a) => !a.replayed)).toHaveLength(1);
    expect(await applied('dup')).toBe(1);
  });

  it('the same key with another request is refused with IDEMPOTENCY_MISMATCH (a 409)', async () => {
    await seed('mm');
    await inTenant(() => executor.execute('key-mm', 'op', { n: 1 }, (m) => bump(m, 'mm').then(() => 'first')));
    await expect(
      inTenant(() => executor.execute('key-mm', 'op', { n: 2 }, (m) => bump(m, 'mm').then(() => 'second'))),
    ).rejects.toMatchObject({
      code: IdempotencyErrorCode.IDEMPOTENCY_MISMATCH,
      kind: 'CONFLICT',
    });
    expect(await applied('mm')).toBe(1);
  });

  it('an effect that fails stores no key, so a retry runs it', async () => {
    await seed('fail');
    await expect(
      inTenant(() =>
        executor.execute('key-fail', 'op', {}, async (m) => {
          await bump(m, 'fail');
          throw new Error('business rule says no');
        }),
      ),
    ).rejects.toThrow('business rule says no');
    expect(await applied('fail')).toBe(0);
    const retry = await inTenant(() => executor.execute('key-fail', 'op', {}, (m) => bump(m, 'fail').then(() => 'ok')));
    expect(retry).toEqual({ result: 'ok', replayed: false });
    expect(await applied('fail')).toBe(1);
  });

  it('a real deadlock between two writers is retried with backoff and each effect lands once', async () => {
    await seed('left', 'right');
    let arrived = 0;
    const lock = (m: EntityManager, id: string) =>
      m
        .getRepository(EffectEntity)
        .createQueryBuilder('e')
        .setLock('pessimistic_write')
        .where('e.id = :id', { id })
        .getOne();
    const writer = (key: string, first: string, second: string) =>
      inTenant(() =>
        executor.execute(key, 'swap', { first }, async (m) => {
          await lock(m, first);
          arrived++;
          await eventually(() => arrived >= 2, { what: 'both writers hold their first lock' });
          await lock(m, second);
          await bump(m, first);
          return first;
        }),
      );
    const results = await Promise.all([writer('key-l', 'left', 'right'), writer('key-r', 'right', 'left')]);
    expect(results.map((r) => r.result).sort()).toEqual(['left', 'right']);
    expect(arrived).toBeGreaterThanOrEqual(3); // one writer was rolled back by the deadlock and ran again
    expect(await applied('left')).toBe(1);
    expect(await applied('right')).toBe(1);
  }, 30_000);

  it('unique violations are recognised by code on this dialect', async () => {
    const error = await inTenant(() =>
      router.run((ds) => ds.getRepository(EffectEntity).insert({ id: 'left', applied: 0 })),
    ).catch((e: unknown) => e);
    expect(classifySqlError(error)).toBe('unique_violation');
  });

  it('malformed keys are refused before anything runs', async () => {
    await expect(
      inTenant(() => executor.execute("x' OR 1=1", 'op', {}, () => Promise.resolve(1))),
    ).rejects.toMatchObject({
      code: IdempotencyErrorCode.INVALID_IDEMPOTENCY_KEY,
    });
  });

  it('purgeExpired removes expired keys only', async () => {
    const shortLived = new IdempotentExecutor(router, { ttlMs: 1 });
    await inTenant(() => shortLived.execute('key-expiring', 'op', {}, () => Promise.resolve('x')));
    await eventually(async () => (await inTenant(() => shortLived.purgeExpired())) >= 1, {
      what: 'expired key purged',
    });
    const remaining = await inTenant(() =>
      router.run((ds) => ds.getRepository(IdempotencyKeyEntity).findOneBy({ key: 'key-dup' })),
    );
    expect(remaining).not.toBeNull();
  });
});
