import { Column, Entity, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

/** One reading of one device; `(device_id, seq)` is unique, so redelivery never duplicates. */
@Entity({ name: 'readings' })
export class ReadingEntity {
  @PrimaryColumn({ type: 'uuid', name: 'device_id' })
  deviceId!: string;

  @PrimaryColumn({ type: 'bigint', transformer: { to: (v: number) => v, from: (v: string) => Number(v) } })
  seq!: number;

  /** Device time. */
  @Column({ type: 'timestamptz' })
  ts!: Date;

  /** When the edge store received it. */
  @Column({ type: 'timestamptz', name: 'received_at' })
  receivedAt!: Date;

  @Column({ type: 'jsonb' })
  metrics!: Record<string, number>;
}

/** A message that could not be stored as readings, kept with the reason (never dropped silently). */
@Entity({ name: 'dead_letters' })
export class DeadLetterEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id!: string;

  @Column({ type: 'uuid', name: 'device_id', nullable: true })
  deviceId!: string | null;

  @Column({ type: 'varchar', length: 500 })
  reason!: string;

  /** The message as received, truncated to 64 KB. */
  @Column({ type: 'bytea' })
  payload!: Buffer;

  @Column({ type: 'timestamptz', name: 'received_at' })
  receivedAt!: Date;
}
