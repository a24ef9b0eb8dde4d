import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/**
 * A tenant data key, wrapped (AES-256-GCM) by a key derived from one version of MASTER_KEY, the
 * one recorded in `kekVersion`. Never stored in clear.
 */
@Entity({ name: 'tenant_keys' })
export class TenantKeyEntity {
  @PrimaryColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'bytea', name: 'wrapped_key' })
  wrappedKey!: Buffer;

  @Column({ type: 'boolean' })
  active!: boolean;

  /** The master key version whose KEK wrapped this key (1 for keys wrapped before versions existed). */
  @Column({ type: 'smallint', name: 'kek_version' })
  kekVersion!: number;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;
}
