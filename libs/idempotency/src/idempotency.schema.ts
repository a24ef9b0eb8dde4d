import { TIMESTAMP_PRECISION, portableTypes, sqlDialectOf } from '#polystore/data-router';
import { Table, TableIndex, type QueryRunner } from 'typeorm';

/** Creates `idempotency_keys` (PostgreSQL or MySQL/MariaDB); call from a store's migration. */
export async function createIdempotencyTable(queryRunner: QueryRunner): Promise<void> {
  const types = portableTypes(sqlDialectOf(queryRunner));
  await queryRunner.createTable(
    new Table({
      name: 'idempotency_keys',
      columns: [
        { name: 'idem_key', type: 'varchar', length: '200', isPrimary: true },
        { name: 'request_hash', type: 'char', length: '64' },
        { name: 'result', type: types.longText, isNullable: true },
        { name: 'created_at', type: types.timestamp, precision: TIMESTAMP_PRECISION },
        { name: 'expires_at', type: types.timestamp, precision: TIMESTAMP_PRECISION },
      ],
    }),
  );
  await queryRunner.createIndex(
    'idempotency_keys',
    new TableIndex({ name: 'idempotency_keys_expires_idx', columnNames: ['expires_at'] }),
  );
}

/** Drops `idempotency_keys` (migration `down`). */
export async function dropIdempotencyTable(queryRunner: QueryRunner): Promise<void> {
  await queryRunner.dropTable('idempotency_keys');
}
