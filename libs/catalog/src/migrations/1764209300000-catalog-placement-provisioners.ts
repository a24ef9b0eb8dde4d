import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The provisioning login that made a placement's own login and database (`database` and
 * `dedicated` placements on PostgreSQL: `ServerRoles.ensureTenantDatabase`): its server URL
 * without the password, and the password sealed with a key only the master key's holders derive.
 * The gateway and the CLI drop that login and database with it when the tenant goes, and moves
 * fence and copy with it. Kept apart from `placements`, which the stores read: no store's catalog
 * login is granted this table.
 */
export class CatalogPlacementProvisioners1764209300000 implements MigrationInterface {
  name = 'CatalogPlacementProvisioners1764209300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE placement_provisioners (
        tenant_id uuid NOT NULL,
        store varchar(32) NOT NULL,
        server_url varchar(500) NOT NULL,
        server_secret bytea,
        PRIMARY KEY (tenant_id, store),
        FOREIGN KEY (tenant_id, store) REFERENCES placements (tenant_id, store) ON DELETE CASCADE
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE placement_provisioners');
  }
}
