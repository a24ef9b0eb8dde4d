import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';
import type { CustomerKeyEntity } from './customer-key.entity.js';

/**
 * A customer. Every PII field is sealed (AES-256-GCM, AAD binding tenant, row and column) under
 * the key `keyScheme` names: the customer's own key (`customer_keys`, wrapped by tenant key
 * `keyId`), or, for rows written before customers had keys, the tenant's field subkey.
 * `email_bidx` is an HMAC of the normalized email under the tenant's index key, for exact-match
 * lookups.
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

  /** The tenant data key the row depends on (it wraps the customer key, or seals the fields). */
  @Column({ type: 'integer', name: 'key_id' })
  keyId!: number;

  /** `CustomerKeyScheme`: 2 = the customer's own key, 1 = the tenant's field subkey (older rows). */
  @Column({ type: 'smallint', name: 'key_scheme' })
  keyScheme!: number;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;

  /** The customer's wrapped key, joined in by the reads (`CustomerRepository`); not a column. */
  customerKey?: CustomerKeyEntity | null;
}
