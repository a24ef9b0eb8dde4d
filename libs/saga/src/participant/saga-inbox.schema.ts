import { TIMESTAMP_PRECISION, portableTypes, sqlDialectOf } from '#polystore/data-router';
import { Table, type QueryRunner } from 'typeorm';

/** Creates `saga_inbox` (PostgreSQL or MySQL/MariaDB); call from a store's migration. */
export async function createSagaInboxTable(queryRunner: QueryRunner): Promise<void> {
  const types = portableTypes(sqlDialectOf(queryRunner));
  await queryRunner.createTable(
    new Table({
      name: 'saga_inbox',
      columns: [
        { name: 'saga_id', type: 'varchar', length: '36', isPrimary: true },
        { name: 'step', type: 'varchar', length: '64', isPrimary: true },
        { name: 'state', type: 'varchar', length: '16' },
        { name: 'result', type: types.longText, isNullable: true },
        { name: 'updated_at', type: types.timestamp, precision: TIMESTAMP_PRECISION },
      ],
    }),
  );
}

/** Drops `saga_inbox` (migration `down`). */
export async function dropSagaInboxTable(queryRunner: QueryRunner): Promise<void> {
  await queryRunner.dropTable('saga_inbox');
}
