import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import type { ApiKeyScope } from '../api-key-scope.js';

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

  /** What the tenant calls the key (`ci`, `billing export`); not unique. */
  @Column({ type: 'varchar', length: 100 })
  name!: string;

  @Column({ type: 'text', array: true })
  scopes!: ApiKeyScope[];

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;

  /** Refused from this instant on; null: never expires. */
  @Column({ type: 'timestamptz', name: 'expires_at', nullable: true })
  expiresAt!: Date | null;

  /** When a gateway last accepted the key (recorded at most about once a minute). */
  @Column({ type: 'timestamptz', name: 'last_used_at', nullable: true })
  lastUsedAt!: Date | null;

  /** The key issued by rotating this one. */
  @Column({ type: 'uuid', name: 'replaced_by', nullable: true })
  replacedBy!: string | null;

  @Column({ type: 'timestamptz', name: 'revoked_at', nullable: true })
  revokedAt!: Date | null;
}
