import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Placement kinds: `schema` (a schema and role of the tenant's own in a shared database),
 * `database` (a database of its own on a shared server) and `dedicated` (a server of its own).
 * Every placement made before kinds existed is a database of its own: `database`.
 */
export class CatalogPlacementKinds1764206000000 implements MigrationInterface {
  name = 'CatalogPlacementKinds1764206000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE placements ADD COLUMN kind varchar(16) NOT NULL DEFAULT 'database'`);
    await q.query(`ALTER TABLE placements ADD COLUMN schema_name varchar(63) NULL`);
    await q.query(
      `ALTER TABLE placements ADD CONSTRAINT placements_kind_check CHECK (
         kind IN ('schema', 'database', 'dedicated') AND ((kind = 'schema') = (schema_name IS NOT NULL)))`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE placements DROP CONSTRAINT placements_kind_check');
    await q.query('ALTER TABLE placements DROP COLUMN schema_name');
    await q.query('ALTER TABLE placements DROP COLUMN kind');
  }
}
