import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A used idempotency key: the request it came with (hash) and the result it produced. */
@Entity({ name: 'idempotency_keys' })
export class IdempotencyKeyEntity {
  @PrimaryColumn({ type: 'varchar', length: 200, name: 'idem_key' })
  key!: string;

  @Column({ type: 'char', length: 64, name: 'request_hash' })
  requestHash!: string;

  /** JSON of the result; written in the same transaction as the effect. */
  @Column({ type: 'text', nullable: true })
  result!: string | null;

  @Column({ type: 'timestamp', precision: 3, name: 'created_at' })
  createdAt!: Date;

  @Column({ type: 'timestamp', precision: 3, name: 'expires_at' })
  expiresAt!: Date;
}
