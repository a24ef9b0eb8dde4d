import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A device's credential: the SHA-256 of its current token, its generation, active or revoked. */
@Entity({ name: 'device_credentials' })
export class DeviceCredentialEntity {
  @PrimaryColumn({ type: 'uuid', name: 'device_id' })
  deviceId!: string;

  @Column({ type: 'bytea', name: 'token_hash' })
  tokenHash!: Buffer;

  @Column({ type: 'int' })
  generation!: number;

  @Column({ type: 'varchar', length: 16 })
  status!: 'active' | 'revoked';

  @Column({ type: 'timestamptz', name: 'updated_at' })
  updatedAt!: Date;
}
