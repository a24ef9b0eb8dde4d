import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * One row that outbox appends lock (`SELECT ... FOR UPDATE`), so that the appends of one tenant
 * commit in `seq` order (see `OutboxRepository.append`).
 */
export class ReliableOutboxOrder1764205600000 implements MigrationInterface {
  name = 'ReliableOutboxOrder1764205600000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({ name: 'outbox_append_lock', columns: [{ name: 'id', type: 'int', isPrimary: true }] }),
    );
    await q.query('INSERT INTO outbox_append_lock (id) VALUES (1)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('outbox_append_lock');
  }
}
