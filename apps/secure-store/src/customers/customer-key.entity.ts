import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/**
 * A customer's own data key (AES-256, random), wrapped with AES-256-GCM by the tenant's
 * customer-key subkey; the AAD binds tenant, customer and tenant key id. The row goes with its
 * customer's (`ON DELETE CASCADE`): deleting a customer, by any path, destroys its key in the
 * same statement, so every copy of the customer's fields sealed under it stops opening.
 */
@Entity({ name: 'customer_keys' })
export class CustomerKeyEntity {
  @PrimaryColumn({ type: 'uuid', name: 'customer_id' })
  customerId!: string;

  @Column({ type: 'bytea', name: 'wrapped_key' })
  wrappedKey!: Buffer;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;
}
