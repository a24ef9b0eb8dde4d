import { MigrationExecutor, type DataSource, type QueryRunner } from 'typeorm';

/** Result of migrating one database. */
export interface MigrationReport {
  readonly applied: string[];
}

const PG_LOCK = 7_164_201_601;
/**
 * MySQL/MariaDB: the server-wide named lock (`GET_LOCK`) every migration run holds; a tenant move
 * holds it too, so no migration recreates tables in a database the move is emptying.
 */
export const MYSQL_MIGRATION_LOCK = 'polystore_migrations';
const MYSQL_LOCK = MYSQL_MIGRATION_LOCK;

/**
 * Applies pending migrations of `dataSource`, each in its own transaction, while holding a
 * database-level lock (`pg_advisory_lock` / `GET_LOCK`), so two processes migrating the same
 * database never interleave. Lock and migrations share one connection, so a pool of one is
 * enough. Idempotent: a current database applies nothing. `lockKey` separates independent
 * migration sets that live in one database (the catalog uses its own).
 *
 * MongoDB: there is no SQL lock and no transaction (TypeORM records applied migrations in the
 * `migrationsTableName` collection); `lockKey` is ignored. Two processes migrating one database
 * at the same moment may both run a migration, so MongoDB migrations must be idempotent
 * (`createIndex` with the same name and keys is).
 */
export async function migrateDatabase(dataSource: DataSource, lockKey?: number): Promise<MigrationReport> {
  if (dataSource.options.type === 'mongodb') {
    const applied = await dataSource.runMigrations({ transaction: 'none' });
    return { applied: applied.map((m) => m.name) };
  }
  const postgres = dataSource.options.type === 'postgres';
  const runner = dataSource.createQueryRunner();
  try {
    await runner.query(postgres ? 'SELECT pg_advisory_lock($1)' : 'SELECT GET_LOCK(?, 60)', [
      postgres ? (lockKey ?? PG_LOCK) : MYSQL_LOCK,
    ]);
    const executor = new MigrationExecutor(dataSource, runner);
    executor.transaction = 'each';
    const applied = await executor.executePendingMigrations();
    return { applied: applied.map((m) => m.name) };
  } finally {
    await runner
      .query(postgres ? 'SELECT pg_advisory_unlock($1)' : 'SELECT RELEASE_LOCK(?)', [
        postgres ? (lockKey ?? PG_LOCK) : MYSQL_LOCK,
      ])
      .catch(() => undefined);
    await runner.release();
  }
}

/** Names of the migrations `dataSource` would apply (nothing is changed). */
export async function pendingMigrations(dataSource: DataSource): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  try {
    return (await new MigrationExecutor(dataSource, runner).getPendingMigrations()).map((m) => m.name);
  } finally {
    await runner.release();
  }
}

/**
 * Applies pending migrations of `dataSource` through `runner`, a PostgreSQL session already bound
 * to one tenant's role and schema (a `schema` placement): the migrations table and every object
 * land in that schema, owned by the tenant's role. Each migration in its own transaction, under
 * an advisory lock named by `lockKey` (one per schema), so two processes never interleave.
 */
export async function migrateOnRunner(
  dataSource: DataSource,
  runner: QueryRunner,
  lockKey: string,
): Promise<MigrationReport> {
  await runner.query('SELECT pg_advisory_lock(hashtext($1))', [lockKey]);
  try {
    const executor = new MigrationExecutor(dataSource, runner);
    executor.transaction = 'each';
    const applied = await executor.executePendingMigrations();
    return { applied: applied.map((m) => m.name) };
  } finally {
    await runner.query('SELECT pg_advisory_unlock(hashtext($1))', [lockKey]).catch(() => undefined);
  }
}

/** Names of the migrations {@link migrateOnRunner} would apply through `runner` (nothing changes). */
export async function pendingOnRunner(dataSource: DataSource, runner: QueryRunner): Promise<string[]> {
  return (await new MigrationExecutor(dataSource, runner).getPendingMigrations()).map((m) => m.name);
}
