import { TIMESTAMP_PRECISION, portableTypes, sqlDialectOf, uuidLength } from '#polystore/data-router';
import { createIdempotencyTable, dropIdempotencyTable } from '#polystore/idempotency';
import { Table, TableIndex, TableUnique, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Devices, usage records, outbox and idempotency keys. Written once with TypeORM's `Table` API
 * so it runs on MariaDB/MySQL and on PostgreSQL alike.
 */
export class ReliableInit1764202000000 implements MigrationInterface {
  name = 'ReliableInit1764202000000';

  async up(q: QueryRunner): Promise<void> {
    const dialect = sqlDialectOf(q);
    const t = portableTypes(dialect);
    const uuid = { type: t.uuid, length: uuidLength(dialect) };
    const ts = { type: t.timestamp, precision: TIMESTAMP_PRECISION };

    await q.createTable(
      new Table({
        name: 'devices',
        columns: [
          { name: 'id', ...uuid, isPrimary: true },
          { name: 'name', type: 'varchar', length: '200' },
          { name: 'model', type: 'varchar', length: '100' },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'customer_id', ...uuid, isNullable: true },
          { name: 'version', type: 'int' },
          { name: 'created_at', ...ts },
          { name: 'updated_at', ...ts },
        ],
        indices: [
          new TableIndex({ name: 'devices_created_idx', columnNames: ['created_at', 'id'] }),
          new TableIndex({ name: 'devices_status_created_idx', columnNames: ['status', 'created_at', 'id'] }),
          new TableIndex({ name: 'devices_customer_idx', columnNames: ['customer_id'] }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'usage_records',
        columns: [
          { name: 'id', type: 'bigint', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'device_id', ...uuid },
          { name: 'period_start', ...ts },
          { name: 'metric', type: 'varchar', length: '64' },
          { name: 'amount', type: t.double },
          { name: 'updated_at', ...ts },
        ],
        uniques: [
          new TableUnique({ name: 'usage_records_natural_key', columnNames: ['device_id', 'period_start', 'metric'] }),
        ],
        indices: [new TableIndex({ name: 'usage_records_period_idx', columnNames: ['period_start'] })],
      }),
    );
    await q.createTable(
      new Table({
        name: 'outbox',
        columns: [
          { name: 'seq', type: 'bigint', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'event_id', ...uuid, isUnique: true },
          { name: 'type', type: 'varchar', length: '64' },
          { name: 'payload', type: t.longText },
          { name: 'created_at', ...ts },
          { name: 'published_at', ...ts, isNullable: true },
        ],
        indices: [new TableIndex({ name: 'outbox_unpublished_idx', columnNames: ['published_at', 'seq'] })],
      }),
    );
    await createIdempotencyTable(q);
  }

  async down(q: QueryRunner): Promise<void> {
    await dropIdempotencyTable(q);
    await q.dropTable('outbox');
    await q.dropTable('usage_records');
    await q.dropTable('devices');
  }
}
