import { TIMESTAMP_PRECISION, portableTypes, sqlDialectOf } from '#polystore/data-router';
import { Table, TableIndex, type QueryRunner } from 'typeorm';

/**
 * Creates `idempotency_keys` (PostgreSQL or MySQL/MariaDB); call from a store's migration. With
 * `states`, the table already has the column `keyStatesUp` adds (a store whose table is new).
 */
export async function createIdempotencyTable(
  queryRunner: QueryRunner,
  options: { states?: boolean } = {},
): Promise<void> {
  const types = portableTypes(sqlDialectOf(queryRunner));
  const table = new Table({
    name: 'idempotency_keys',
    columns: [
      { name: 'idem_key', type: 'varchar', length: '200', isPrimary: true },
      { name: 'request_hash', type: 'char', length: '64' },
      { name: 'result', type: types.longText, isNullable: true },
      { name: 'created_at', type: types.timestamp, precision: TIMESTAMP_PRECISION },
      { name: 'expires_at', type: types.timestamp, precision: TIMESTAMP_PRECISION },
      ...(options.states ? [{ name: 'state', type: 'varchar', length: '16', default: "'done'" }] : []),
    ],
  });
  await queryRunner.createTable(table);
  // Given the Table, not its name: by name, TypeORM first reads the table back from the catalog
  // (four introspection queries, about 9 ms of PostgreSQL time per tenant at provisioning).
  await queryRunner.createIndex(
    table,
    new TableIndex({ name: 'idempotency_keys_expires_idx', columnNames: ['expires_at'] }),
  );
}

/** Drops `idempotency_keys` (migration `down`). */
export async function dropIdempotencyTable(queryRunner: QueryRunner): Promise<void> {
  await queryRunner.dropTable('idempotency_keys');
}

/**
 * Gives `idempotency_keys` a state (`done`, or `compensated` for a saga step undone): what a saga
 * step's key needs once the participant fence writes it here. Call from a store's migration, after
 * the table exists. One added column with a constant default: no table rewrite on PostgreSQL,
 * instant on MariaDB.
 */
export async function keyStatesUp(queryRunner: QueryRunner): Promise<void> {
  await queryRunner.query("ALTER TABLE idempotency_keys ADD COLUMN state varchar(16) NOT NULL DEFAULT 'done'");
}

/** Undoes `keyStatesUp`. */
export async function keyStatesDown(queryRunner: QueryRunner): Promise<void> {
  await queryRunner.query('ALTER TABLE idempotency_keys DROP COLUMN state');
}
