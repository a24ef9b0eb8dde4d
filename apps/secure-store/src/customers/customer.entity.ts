import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A customer. Every PII field is sealed (AES-256-GCM, per-tenant data key, AAD binding tenant,
 * row and column); `email_bidx` is an HMAC of the normalized email, for exact-match lookups.
 */
@Entity({ name: 'customers' })
export class CustomerEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'bytea', name: 'name_ct' })
  nameCt!: Buffer;

  @Column({ type: 'bytea', name: 'email_ct' })
  emailCt!: Buffer;

  @Column({ type: 'bytea', name: 'phone_ct', nullable: true })
  phoneCt!: Buffer | null;

  @Index('customers_email_bidx_idx')
  @Column({ type: 'bytea', name: 'email_bidx' })
  emailBidx!: Buffer;

  @Column({ type: 'integer', name: 'key_id' })
  keyId!: number;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;
}
