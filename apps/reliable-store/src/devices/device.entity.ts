import type { DeviceStatus } from '#polystore/messaging';
import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A registered device. `version` is the optimistic lock: every change increments it. */
@Entity({ name: 'devices' })
export class DeviceEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Column({ type: 'varchar', length: 100 })
  model!: string;

  @Column({ type: 'varchar', length: 16 })
  status!: DeviceStatus;

  @Column({ type: 'uuid', name: 'customer_id', nullable: true })
  customerId!: string | null;

  @Column({ type: 'int' })
  version!: number;

  @Column({ type: 'timestamp', precision: 3, name: 'created_at' })
  createdAt!: Date;

  @Column({ type: 'timestamp', precision: 3, name: 'updated_at' })
  updatedAt!: Date;
}
