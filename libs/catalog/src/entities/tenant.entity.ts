import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn, VersionColumn } from 'typeorm';

/**
 * Lifecycle of a tenant: only `active` tenants are served. `deleted`: kept for a grace period
 * under a slug moved aside (restorable), then purged.
 */
export type TenantStatus = 'provisioning' | 'active' | 'deleting' | 'deleted';

/** An organization. Its slug is its subdomain. */
@Entity({ name: 'tenants' })
export class TenantEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'varchar', length: 40, unique: true })
  slug!: string;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Column({ type: 'varchar', length: 16 })
  status!: TenantStatus;

  @VersionColumn()
  version!: number;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;

  @UpdateDateColumn({ type: 'timestamptz', name: 'updated_at' })
  updatedAt!: Date;

  /**
   * What stores bind the tenant's ciphertexts and chains to (AAD): never changes, not even when
   * the slug does (a restore under another slug). The id for new tenants; the original slug for
   * tenants created before labels existed.
   */
  @Column({ type: 'varchar', length: 64, name: 'key_label' })
  keyLabel!: string;

  /** `deleted` tenants: the slug it had before it was moved aside. */
  @Column({ type: 'varchar', length: 40, name: 'former_slug', nullable: true })
  formerSlug!: string | null;

  @Column({ type: 'timestamptz', name: 'deleted_at', nullable: true })
  deletedAt!: Date | null;

  /** `deleted` tenants: their data is destroyed after this instant. */
  @Column({ type: 'timestamptz', name: 'purge_after', nullable: true })
  purgeAfter!: Date | null;
}
