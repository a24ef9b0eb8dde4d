import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** A tenant data key, wrapped (AES-256-GCM) by a key derived from MASTER_KEY. Never stored in clear. */
@Entity({ name: 'tenant_keys' })
export class TenantKeyEntity {
  @PrimaryColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'bytea', name: 'wrapped_key' })
  wrappedKey!: Buffer;

  @Column({ type: 'boolean' })
  active!: boolean;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;
}
