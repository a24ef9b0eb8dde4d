import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** A tenant API key, stored as the SHA-256 of the secret (the secret is shown once, at creation). */
@Entity({ name: 'api_keys' })
export class ApiKeyEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'uuid', name: 'tenant_id' })
  tenantId!: string;

  @Column({ type: 'bytea', name: 'key_hash', unique: true })
  keyHash!: Buffer;

  /** First characters of the key, to recognise it in lists; not enough to use it. */
  @Column({ type: 'varchar', length: 16 })
  prefix!: string;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;

  @Column({ type: 'timestamptz', name: 'revoked_at', nullable: true })
  revokedAt!: Date | null;
}
