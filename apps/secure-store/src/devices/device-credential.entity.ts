import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** A device's credential as the secure store keeps it: the SHA-256 of its token, never the token. */
@Entity({ name: 'device_credentials' })
export class SecureDeviceCredentialEntity {
  @PrimaryColumn({ type: 'uuid', name: 'device_id' })
  deviceId!: string;

  @Column({ type: 'bytea', name: 'token_hash' })
  tokenHash!: Buffer;

  @Column({ type: 'int' })
  generation!: number;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;
}
