import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** The amount of one metric for one device in one hour; unique per (device, period, metric). */
@Entity({ name: 'usage_records' })
export class UsageRecordEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ type: 'uuid', name: 'device_id' })
  deviceId!: string;

  @Column({ type: 'timestamp', precision: 3, name: 'period_start' })
  periodStart!: Date;

  @Column({ type: 'varchar', length: 64 })
  metric!: string;

  @Column({ type: 'double precision' })
  amount!: number;

  @Column({ type: 'timestamp', precision: 3, name: 'updated_at' })
  updatedAt!: Date;
}
