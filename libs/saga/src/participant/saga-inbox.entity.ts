import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A participant's record of one saga step, written in the same transaction as the step's
 * effect: `done` (the action ran; its result kept for duplicates) or `compensated` (undone, or
 * compensated before the action ever arrived: then the late action is refused).
 */
@Entity({ name: 'saga_inbox' })
export class SagaInboxEntity {
  @PrimaryColumn({ type: 'varchar', length: 36, name: 'saga_id' })
  sagaId!: string;

  @PrimaryColumn({ type: 'varchar', length: 64 })
  step!: string;

  @Column({ type: 'varchar', length: 16 })
  state!: 'done' | 'compensated';

  /** JSON of the action's result. */
  @Column({ type: 'text', nullable: true })
  result!: string | null;

  @Column({ type: 'timestamp', precision: 3, name: 'updated_at' })
  updatedAt!: Date;
}
