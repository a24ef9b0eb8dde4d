import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DatabaseAdmin, DataSourceRouter, parseServerUrl } from '#polystore/data-router';
import { createIdempotencyTable, IdempotencyKeyEntity, NO_EXPIRY } from '#polystore/idempotency';
import {
  createSagaInboxTable,
  moveIdempotencyKeysToInbox,
  moveInboxToIdempotencyKeys,
  ParticipantFence,
  SagaErrorCode,
  sagaStepKey,
} from '#polystore/saga';
import { parseTenantSlug, runAsTenant } from '#polystore/tenancy';
import { DataSource, Entity, PrimaryColumn, Table, type MigrationInterface, type QueryRunner } from 'typeorm';
import { uniqueToken } from '../../../test/support/ids.js';
import { TestServices } from '../../../test/support/services.js';

@Entity({ name: 'effects' })
class EffectEntity {
  @PrimaryColumn({ type: 'varchar', length: 200 })
  key!: string;
}

/**
 * What a store had before: its effects, the fence's `saga_inbox` and, when `existed`,
 * `idempotency_keys` for HTTP keys (the edge store had none); then the stores' step-keys migration.
 */
function storeMigrations(existed: boolean): Array<new () => MigrationInterface> {
  class EarlierStore1700000000001 implements MigrationInterface {
    name = 'EarlierStore1700000000001';
    async up(q: QueryRunner): Promise<void> {
      await q.createTable(
        new Table({ name: 'effects', columns: [{ name: 'key', type: 'varchar', length: '200', isPrimary: true }] }),
      );
      await createSagaInboxTable(q);
      if (existed) await createIdempotencyTable(q);
    }
    down(): Promise<void> {
      return Promise.reject(new Error('not undone in this test'));
    }
  }
  class StepKeys1700000000002 implements MigrationInterface {
    name = 'StepKeys1700000000002';
    async up(q: QueryRunner): Promise<void> {
      await moveInboxToIdempotencyKeys(q, { existed });
    }
    async down(q: QueryRunner): Promise<void> {
      await moveIdempotencyKeysToInbox(q, { existed });
    }
  }
  return [EarlierStore1700000000001, StepKeys1700000000002];
}

const TENANT = parseTenantSlug('step-keys-test');

describe.each([
  ['PostgreSQL', TestServices.postgresUrl, true],
  ['MariaDB', TestServices.mariadbUrl, true],
  ['PostgreSQL, a store without HTTP keys before (the edge store)', TestServices.postgresUrl, false],
])(
  'saga step keys - the fence moves into idempotency_keys on %s, with the steps an earlier version recorded',
  (_, serverUrl, existed) => {
    const MIGRATIONS = storeMigrations(existed);
    const database = `ps_rt_stepkeys_${uniqueToken(6)}`;
    const postgres = serverUrl.startsWith('postgres');
    const sagaId = crypto.randomUUID();
    let ds: DataSource;
    let router: DataSourceRouter | undefined;

    const dataSource = (migrations: Array<new () => MigrationInterface>) => {
      const server = parseServerUrl(serverUrl);
      return new DataSource({
        type: postgres ? 'postgres' : 'mariadb',
        host: server.host,
        port: server.port,
        username: server.username,
        database,
        entities: [EffectEntity, IdempotencyKeyEntity],
        migrations,
        migrationsTableName: 'step_keys_migrations',
      });
    };
    const tables = async () =>
      (
        await ds.query(
          postgres
            ? "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1"
            : 'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY 1',
        )
      ).map((row: { name: string }) => row.name);
    const keys = () => ds.getRepository(IdempotencyKeyEntity).find({ order: { key: 'ASC' } });

    beforeAll(async () => {
      await DatabaseAdmin.ensureDatabase(serverUrl, database);
      ds = dataSource(MIGRATIONS.slice(0, 1));
      await ds.initialize();
      await ds.runMigrations();
      // Recorded by the earlier version: a step done (with its result), a step compensated, an HTTP key.
      await ds.query(
        `INSERT INTO saga_inbox (saga_id, step, state, result, updated_at) VALUES
         ('${sagaId}', 'registry', 'done', '{"applied":"registry"}', CURRENT_TIMESTAMP),
         ('${sagaId}', 'activate', 'compensated', NULL, CURRENT_TIMESTAMP)`,
      );
      if (existed)
        await ds.query(
          `INSERT INTO idempotency_keys (idem_key, request_hash, result, created_at, expires_at)
           VALUES ('client-key-1', '${'a'.repeat(64)}', '{"id":1}', CURRENT_TIMESTAMP, '2099-01-01 00:00:00')`,
        );
      await ds.destroy();
    });

    afterAll(async () => {
      await router?.close();
      if (ds?.isInitialized) await ds.destroy();
      await DatabaseAdmin.dropDatabase(serverUrl, database);
    });

    it('step keys - up: saga_inbox goes, its steps are keys with their state and result and no expiry, HTTP keys untouched', async () => {
      ds = dataSource(MIGRATIONS);
      await ds.initialize();
      expect((await ds.runMigrations()).map((m) => m.name)).toEqual(['StepKeys1700000000002']);
      expect(await tables()).toEqual(['effects', 'idempotency_keys', 'step_keys_migrations']);
      const rows = await keys();
      expect(rows.map((r) => [r.key, r.state, r.result, r.expiresAt.getTime() === NO_EXPIRY.getTime()])).toEqual([
        ...(existed ? [['client-key-1', 'done', '{"id":1}', false]] : []),
        [sagaStepKey(sagaId, 'activate'), 'compensated', null, true],
        [sagaStepKey(sagaId, 'registry'), 'done', '{"applied":"registry"}', true],
      ]);
      expect(rows.find((r) => r.key === sagaStepKey(sagaId, 'registry'))!.requestHash).toMatch(/^[0-9a-f]{64}$/);
    });

    it('step keys - the fence finds them: a duplicate gets the stored result, a late action is refused, a compensation undoes once', async () => {
      router = new DataSourceRouter({
        name: 'step-keys',
        resolvePlacement: (tenant) => Promise.resolve({ tenant, serverUrl, database, kind: 'database', version: 1 }),
        schema: {
          entities: [EffectEntity, IdempotencyKeyEntity],
          migrations: MIGRATIONS,
          migrationsTableName: 'step_keys_migrations',
        },
        poolSize: 2,
        connectionBudget: 4,
        idleTtlMs: 60_000,
        maxWaiters: 20,
        acquireTimeoutMs: 5_000,
        breaker: { consecutiveFailures: 5, halfOpenAfterMs: 500 },
        applicationName: 'step-keys-test',
      });
      const fence = new ParticipantFence(router);
      let ran = 0;
      const act = (step: string) =>
        runAsTenant(TENANT, () =>
          fence.action(sagaId, step, async (m) => {
            ran++;
            await m.insert(EffectEntity, { key: step });
            return { applied: step };
          }),
        );
      await expect(act('registry')).resolves.toEqual({
        result: { applied: 'registry' },
        duplicate: true,
        empty: false,
      });
      await expect(act('activate')).rejects.toMatchObject({ code: SagaErrorCode.STEP_ALREADY_COMPENSATED });
      expect(ran).toBe(0);
      const undone: unknown[] = [];
      const undo = () =>
        runAsTenant(TENANT, () =>
          fence.compensation(sagaId, 'registry', (_m, actionResult) => {
            undone.push(actionResult);
            return Promise.resolve();
          }),
        );
      await expect(undo()).resolves.toMatchObject({ duplicate: false, empty: false });
      await expect(undo()).resolves.toMatchObject({ duplicate: true });
      expect(undone).toEqual([{ applied: 'registry' }]);
      // A new step is a key of the same table.
      await expect(act('credential')).resolves.toMatchObject({ duplicate: false });
      expect((await keys()).map((r) => [r.key, r.state])).toContainEqual([sagaStepKey(sagaId, 'credential'), 'done']);
    });

    it('step keys - down: saga_inbox again with every step, idempotency_keys as it was (or gone)', async () => {
      await ds.undoLastMigration();
      expect(await tables()).toEqual(
        existed
          ? ['effects', 'idempotency_keys', 'saga_inbox', 'step_keys_migrations']
          : ['effects', 'saga_inbox', 'step_keys_migrations'],
      );
      const inbox: Array<{ saga_id: string; step: string; state: string; result: string | null }> = await ds.query(
        'SELECT saga_id, step, state, result FROM saga_inbox ORDER BY step',
      );
      expect(inbox).toEqual([
        { saga_id: sagaId, step: 'activate', state: 'compensated', result: null },
        { saga_id: sagaId, step: 'credential', state: 'done', result: '{"applied":"credential"}' },
        { saga_id: sagaId, step: 'registry', state: 'compensated', result: '{"applied":"registry"}' },
      ]);
      if (!existed) return;
      const left: Array<{ idem_key: string }> = await ds.query('SELECT * FROM idempotency_keys');
      expect(left.map((r) => r.idem_key)).toEqual(['client-key-1']);
      expect(Object.keys(left[0]!)).not.toContain('state');
    });
  },
);
