import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * One generation of a device's credential, as the secure store records it: issued at
 * registration (generation 1) or by a rotation (the edge store's next generation), revoked by the
 * next rotation or by the device's deletion. The credential itself (a JWT the edge store signs)
 * is never stored anywhere; this is its history.
 */
@Entity({ name: 'device_credentials' })
export class SecureDeviceCredentialEntity {
  @PrimaryColumn({ type: 'uuid', name: 'device_id' })
  deviceId!: string;

  @PrimaryColumn({ type: 'int' })
  generation!: number;

  @Column({ type: 'timestamptz', name: 'created_at' })
  issuedAt!: Date;

  @Column({ type: 'timestamptz', name: 'revoked_at', nullable: true })
  revokedAt!: Date | null;
}
