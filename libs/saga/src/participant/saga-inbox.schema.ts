import { TIMESTAMP_PRECISION, portableTypes, sqlDialectOf } from '#polystore/data-router';
import {
  createIdempotencyTable,
  dropIdempotencyTable,
  keyStatesDown,
  keyStatesUp,
  NO_EXPIRY,
} from '#polystore/idempotency';
import { Table, type QueryRunner } from 'typeorm';

/**
 * Creates `saga_inbox` (PostgreSQL or MySQL/MariaDB), the participant fence's own table until
 * the fence moved into `idempotency_keys` (`moveInboxToIdempotencyKeys`). Kept for the stores'
 * earlier migrations, which must still run as they did.
 */
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

/** Whether the store already had `idempotency_keys` (its HTTP keys) when its steps moved there. */
export interface StepKeysTable {
  readonly existed: boolean;
}

/**
 * Moves every step of `saga_inbox` into `idempotency_keys` as `saga/<sagaId>/<step>` with the
 * same state and result, `NO_EXPIRY` and the key's SHA-256 as its hash, then drops `saga_inbox`.
 * The table gets its `state` column first (`keyStatesUp`), or is created with it when the store
 * had none. In-flight sagas carry on: a duplicate or a late compensation finds its step under the
 * new key. A store's migration is this one call.
 */
export async function moveInboxToIdempotencyKeys(queryRunner: QueryRunner, table: StepKeysTable): Promise<void> {
  if (table.existed) await keyStatesUp(queryRunner);
  else await createIdempotencyTable(queryRunner, { states: true });
  const postgres = sqlDialectOf(queryRunner) === 'postgres';
  const key = postgres ? `'saga/' || saga_id || '/' || step` : `CONCAT('saga/', saga_id, '/', step)`;
  const hash = postgres ? `encode(sha256(convert_to(${key}, 'UTF8')), 'hex')` : `SHA2(${key}, 256)`;
  await queryRunner.query(
    `INSERT INTO idempotency_keys (idem_key, request_hash, state, result, created_at, expires_at)
     SELECT ${key}, ${hash}, state, result, updated_at, ${postgres ? '$1' : '?'} FROM saga_inbox`,
    [NO_EXPIRY],
  );
  // By its name, not `dropTable`: that reads the table back from the catalog first.
  await queryRunner.query('DROP TABLE saga_inbox');
}

/**
 * Undoes `moveInboxToIdempotencyKeys`: `saga_inbox` again, with the steps' keys moved back into
 * it, and `idempotency_keys` as it was (without `state`, or gone when the store had none).
 */
export async function moveIdempotencyKeysToInbox(queryRunner: QueryRunner, table: StepKeysTable): Promise<void> {
  await createSagaInboxTable(queryRunner);
  const postgres = sqlDialectOf(queryRunner) === 'postgres';
  // saga/<sagaId>/<step>: the saga id is the second part; the step is everything after it.
  const sagaId = postgres
    ? `split_part(idem_key, '/', 2)`
    : `SUBSTRING_INDEX(SUBSTRING_INDEX(idem_key, '/', 2), '/', -1)`;
  const step = postgres ? `substr(idem_key, length(${sagaId}) + 7)` : `SUBSTRING(idem_key, CHAR_LENGTH(${sagaId}) + 7)`;
  await queryRunner.query(
    `INSERT INTO saga_inbox (saga_id, step, state, result, updated_at)
     SELECT ${sagaId}, ${step}, state, result, created_at FROM idempotency_keys WHERE idem_key LIKE 'saga/%'`,
  );
  await queryRunner.query(`DELETE FROM idempotency_keys WHERE idem_key LIKE 'saga/%'`);
  if (table.existed) await keyStatesDown(queryRunner);
  else await dropIdempotencyTable(queryRunner);
}
