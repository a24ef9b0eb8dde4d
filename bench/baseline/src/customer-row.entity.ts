import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * The `customers` table of one tenant's secure database, mapped as plain columns: the floor
 * reads the row as stored (ciphertexts included) and decrypts nothing.
 */
@Entity({ name: 'customers' })
export class CustomerRow {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'bytea', name: 'name_ct' })
  nameCt!: Buffer;

  @Column({ type: 'bytea', name: 'email_ct' })
  emailCt!: Buffer;

  @Column({ type: 'bytea', name: 'phone_ct', nullable: true })
  phoneCt!: Buffer | null;

  @Column({ type: 'bytea', name: 'email_bidx' })
  emailBidx!: Buffer;

  @Column({ type: 'integer', name: 'key_id' })
  keyId!: number;

  @Column({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;
}
