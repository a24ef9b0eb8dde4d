import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * One audit record. `hash = HMAC(auditKey, prev_hash || canonical(entry))`, so changing or
 * removing any row breaks the chain; `seq` is assigned by the writer (no gaps on rollback).
 */
@Entity({ name: 'audit_entries' })
export class AuditEntryEntity {
  @PrimaryColumn({ type: 'bigint', transformer: { to: (v: number) => v, from: (v: string) => Number(v) } })
  seq!: number;

  @Column({ type: 'timestamptz' })
  at!: Date;

  @Column({ type: 'varchar', length: 32 })
  action!: string;

  @Column({ type: 'uuid', name: 'subject_id', nullable: true })
  subjectId!: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  actor!: string | null;

  @Column({ type: 'varchar', length: 64, name: 'correlation_id' })
  correlationId!: string;

  @Column({ type: 'varchar', length: 16 })
  outcome!: string;

  @Column({ type: 'bytea', name: 'prev_hash' })
  prevHash!: Buffer;

  @Column({ type: 'bytea' })
  hash!: Buffer;
}

/** The chain's head: the last `seq` and `hash`, updated in the same transaction as each append. */
@Entity({ name: 'audit_head' })
export class AuditHeadEntity {
  @PrimaryColumn({ type: 'smallint' })
  id!: number;

  @Column({ type: 'bigint', transformer: { to: (v: number) => v, from: (v: string) => Number(v) } })
  seq!: number;

  @Column({ type: 'bytea' })
  hash!: Buffer;
}
