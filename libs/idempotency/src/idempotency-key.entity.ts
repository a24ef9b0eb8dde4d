import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * `done`: the effect ran (its result kept for duplicates). `compensated`: a saga step undone, or
 * compensated before its action ever arrived (the late action is then refused).
 */
export type KeyState = 'done' | 'compensated';

/**
 * The expiry of a key kept as long as its owner (the tenant): `purgeExpired` never reaches it. A
 * date rather than NULL keeps `expires_at` as it was, so no store rebuilds its table for it.
 */
export const NO_EXPIRY = new Date('9999-12-31T00:00:00.000Z');

/**
 * A used once-only key: what claimed it (hash), the result it produced and its state. Two kinds
 * share the table, told apart by their form: an HTTP `Idempotency-Key` as the client sent it, and
 * a saga step's `saga/<sagaId>/<step>` (`/` is not allowed in the first kind).
 */
@Entity({ name: 'idempotency_keys' })
export class IdempotencyKeyEntity {
  @PrimaryColumn({ type: 'varchar', length: 200, name: 'idem_key' })
  key!: string;

  @Column({ type: 'char', length: 64, name: 'request_hash' })
  requestHash!: string;

  @Column({ type: 'varchar', length: 16 })
  state!: KeyState;

  /** JSON of the result; written in the same transaction as the effect. */
  @Column({ type: 'text', nullable: true })
  result!: string | null;

  @Column({ type: 'timestamp', precision: 3, name: 'created_at' })
  createdAt!: Date;

  /** {@link NO_EXPIRY} for a key kept until its owner goes (a saga step's: a parked saga may resume). */
  @Column({ type: 'timestamp', precision: 3, name: 'expires_at' })
  expiresAt!: Date;
}
