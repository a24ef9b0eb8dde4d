import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseServerUrl } from '#polystore/data-router';
import type { Placement } from '#polystore/catalog';
import { parseTenantSlug } from '#polystore/tenancy';
import type { MigrationInterface } from 'typeorm';
import { uniqueToken } from '../../../test/support/ids.js';
import { pgQuery } from '../../../test/support/pg.js';
import { TestServices } from '../../../test/support/services.js';
import { FleetMigrationState } from '../src/migrate/applied-migrations.js';

class First1764206200000 implements MigrationInterface {
  name = 'First1764206200000';
  async up(): Promise<void> {}
  async down(): Promise<void> {}
}
class Second1764206300000 implements MigrationInterface {
  name = 'Second1764206300000';
  async up(): Promise<void> {}
  async down(): Promise<void> {}
}
const SCHEMA = {
  entities: [],
  migrations: [First1764206200000, Second1764206300000],
  migrationsTableName: 'fleet_migrations',
};

/** `migrate`'s fast path over schema placements: the fleet's state from the shared database. */
describe('migrate - the migration state of schema placements, read for the whole shared database (real PostgreSQL)', () => {
  const database = `ps_rt_${uniqueToken(6)}_fleet`;
  const schemas = {
    current: 'ps_fleet_current',
    behind: 'ps_fleet_behind',
    empty: 'ps_fleet_empty',
    none: 'ps_fleet_none',
  };
  const placementOf = (schema: string): Placement => ({
    tenant: parseTenantSlug('fleet'),
    store: 'secure',
    serverUrl: TestServices.postgresUrl,
    serverId: parseServerUrl(TestServices.postgresUrl).id,
    database,
    kind: 'schema',
    schema,
    version: 1,
  });

  beforeAll(async () => {
    await pgQuery(`CREATE DATABASE "${database}"`);
    const table = (schema: string) =>
      `CREATE SCHEMA "${schema}"; CREATE TABLE "${schema}".fleet_migrations (id serial PRIMARY KEY, timestamp bigint NOT NULL, name varchar NOT NULL)`;
    await pgQuery(
      [
        table(schemas.current),
        `INSERT INTO "${schemas.current}".fleet_migrations (timestamp, name) VALUES (1, 'First1764206200000'), (2, 'Second1764206300000')`,
        table(schemas.behind),
        `INSERT INTO "${schemas.behind}".fleet_migrations (timestamp, name) VALUES (1, 'First1764206200000')`,
        table(schemas.empty),
        `CREATE SCHEMA "${schemas.none}"`,
      ].join(';'),
      [],
      database,
    );
  });

  afterAll(async () => {
    await pgQuery(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  });

  it('migrate - current, behind, empty and table-less schemas are told apart', async () => {
    const fleet = new FleetMigrationState();
    const answers = await Promise.all(
      [schemas.current, schemas.behind, schemas.empty, schemas.none].map((s) =>
        fleet.isCurrent(placementOf(s), SCHEMA),
      ),
    );
    // A schema without the migrations table cannot be told apart from one not migrated yet: undefined, the full path decides.
    expect(answers).toEqual([true, false, false, undefined]);
  });

  it('migrate - a schema migrated after the fleet was read is still told current (re-read on its own)', async () => {
    const fleet = new FleetMigrationState();
    await expect(fleet.isCurrent(placementOf(schemas.behind), SCHEMA)).resolves.toBe(false);
    await pgQuery(
      `INSERT INTO "${schemas.behind}".fleet_migrations (timestamp, name) VALUES (2, 'Second1764206300000')`,
      [],
      database,
    );
    await expect(fleet.isCurrent(placementOf(schemas.behind), SCHEMA)).resolves.toBe(true);
  });
});
