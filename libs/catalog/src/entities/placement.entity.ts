import type { PlacementKind } from '#polystore/data-router';
import { Column, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/**
 * Where one tenant's database for one store lives. The server URL is stored without its
 * password; the password, if any, is sealed with the master key in `server_secret`.
 */
@Entity({ name: 'placements' })
export class PlacementEntity {
  @PrimaryColumn({ type: 'uuid', name: 'tenant_id' })
  tenantId!: string;

  @PrimaryColumn({ type: 'varchar', length: 32 })
  store!: string;

  @Column({ type: 'varchar', length: 500, name: 'server_url' })
  serverUrl!: string;

  @Column({ type: 'bytea', name: 'server_secret', nullable: true })
  serverSecret!: Buffer | null;

  @Column({ type: 'varchar', length: 63, name: 'database_name' })
  databaseName!: string;

  /** `schema`, `database` or `dedicated` (see `PlacementKind`). */
  @Column({ type: 'varchar', length: 16 })
  kind!: PlacementKind;

  /** `schema` placements: the tenant's schema in `database_name` (also its role's name). */
  @Column({ type: 'varchar', length: 63, name: 'schema_name', nullable: true })
  schemaName!: string | null;

  @Column({ type: 'integer' })
  version!: number;

  @UpdateDateColumn({ type: 'timestamptz', name: 'updated_at' })
  updatedAt!: Date;
}
