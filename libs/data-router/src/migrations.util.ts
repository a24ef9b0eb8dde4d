import type { DataSource } from 'typeorm';

/** Result of migrating one database. */
export interface MigrationReport {
  readonly applied: string[];
}

const PG_LOCK = 7_164_201_601;
const MYSQL_LOCK = 'polystore_migrations';

/**
 * Applies pending migrations of `dataSource`, each in its own transaction, while holding a
 * database-level lock (`pg_advisory_lock` / `GET_LOCK`), so two processes migrating the same
 * tenant never interleave. Idempotent: a current database applies nothing.
 */
export async function migrateDatabase(dataSource: DataSource): Promise<MigrationReport> {
  const type = dataSource.options.type;
  if (type === 'mongodb') {
    const applied = await dataSource.runMigrations({ transaction: 'none' });
    return { applied: applied.map((m) => m.name) };
  }
  const runner = dataSource.createQueryRunner();
  const postgres = type === 'postgres';
  try {
    await runner.query(postgres ? 'SELECT pg_advisory_lock($1)' : 'SELECT GET_LOCK(?, 60)', [postgres ? PG_LOCK : MYSQL_LOCK]);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return { applied: applied.map((m) => m.name) };
  } finally {
    await runner
      .query(postgres ? 'SELECT pg_advisory_unlock($1)' : 'SELECT RELEASE_LOCK(?)', [postgres ? PG_LOCK : MYSQL_LOCK])
      .catch(() => undefined);
    await runner.release();
  }
}
