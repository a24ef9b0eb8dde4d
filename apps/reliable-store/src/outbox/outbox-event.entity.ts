import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * An event written in the same transaction as the change it describes, published to JetStream
 * by the relay afterwards (`published_at`). `seq` gives the per-tenant order.
 */
@Entity({ name: 'outbox' })
export class OutboxEventEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  seq!: string;

  @Column({ type: 'uuid', name: 'event_id' })
  eventId!: string;

  @Column({ type: 'varchar', length: 64 })
  type!: string;

  /** JSON of the event. */
  @Column({ type: 'text' })
  payload!: string;

  @Column({ type: 'timestamp', precision: 3, name: 'created_at' })
  createdAt!: Date;

  @Column({ type: 'timestamp', precision: 3, name: 'published_at', nullable: true })
  publishedAt!: Date | null;
}
