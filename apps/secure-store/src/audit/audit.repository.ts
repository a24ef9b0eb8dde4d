import { Injectable } from '@nestjs/common';
import { DataSourceRouter, type SharedSchema } from '#polystore/data-router';
import { storeBatchRole } from '#polystore/runtime';
import type { TenantSlug } from '#polystore/tenancy';
import { And, LessThanOrEqual, MoreThan, type EntityManager } from 'typeorm';
import { AuditEntryEntity, AuditHeadEntity } from './audit-entry.entity.js';

/**
 * The role of the secure store's units spanning tenants (`ps_secure_batch`): the migration
 * SecureAuditAppender1764209300000 grants it, in each tenant schema, `USAGE` on the schema,
 * `INSERT` on `audit_entries` and `SELECT, UPDATE` on `audit_head`; nothing else.
 */
export const AUDIT_APPENDER_ROLE = storeBatchRole('secure');

/** One tenant's share of an append spanning tenants: its records and the head they move it from and to. */
export interface SpanAppend {
  readonly schema: string;
  readonly entries: readonly AuditEntryEntity[];
  readonly from: { readonly seq: number; readonly hash: Buffer };
  readonly to: { readonly seq: number; readonly hash: Buffer };
}

/** Catalog schema names only: they are spliced, double-quoted, into the statements spanning tenants. */
const SCHEMA_NAME = /^[a-z][a-z0-9_]{0,62}$/;

const ENTRY_COLUMNS = 'seq, at, action, subject_id, actor, correlation_id, outcome, prev_hash, hash';

/** Statement parameters collected as the text is written: `p(value)` adds one and gives its `$n`. */
function parameters(first: unknown[] = []): { params: unknown[]; p: (value: unknown) => string } {
  const params = [...first];
  return {
    params,
    p: (value) => {
      params.push(value);
      return `$${params.length}`;
    },
  };
}

/** The arguments of `unnest(...)` giving `entries` as rows of {@link ENTRY_COLUMNS}, a parameter per column. */
function entryArrays(p: (value: unknown) => string, entries: readonly AuditEntryEntity[]): string {
  const column = <K extends keyof AuditEntryEntity>(key: K) => p(entries.map((entry) => entry[key]));
  return (
    `${column('seq')}::bigint[], ${column('at')}::timestamptz[], ${column('action')}::varchar[], ` +
    `${column('subjectId')}::uuid[], ${column('actor')}::varchar[], ${column('correlationId')}::varchar[], ` +
    `${column('outcome')}::varchar[], ${column('prevHash')}::bytea[], ${column('hash')}::bytea[]`
  );
}

/** Data access for the current tenant's audit chain. */
@Injectable()
export class AuditRepository {
  constructor(private readonly router: DataSourceRouter) {}

  /** Locks and returns the chain head; appends are serialized per tenant by this lock. */
  async lockHead(manager: EntityManager): Promise<AuditHeadEntity> {
    const head = await manager
      .getRepository(AuditHeadEntity)
      .createQueryBuilder('h')
      .setLock('pessimistic_write')
      .where('h.id = 1')
      .getOne();
    if (!head) throw new Error('audit head missing');
    return head;
  }

  async append(
    manager: EntityManager,
    entries: AuditEntryEntity[],
    head: { seq: number; hash: Buffer },
  ): Promise<void> {
    await manager.getRepository(AuditEntryEntity).insert(entries);
    await manager.getRepository(AuditHeadEntity).update({ id: 1 }, { seq: head.seq, hash: head.hash });
  }

  /**
   * Appends `entries` and advances the head from `from` to `to` in **one statement** (one round
   * trip, atomic on its own): the head moves only if it still is `from`, and the entries are
   * written only if it moved. False when another writer advanced the head first (nothing written):
   * read the head again and chain the entries after it.
   */
  async appendAfter(
    entries: readonly AuditEntryEntity[],
    from: { seq: number; hash: Buffer },
    to: { seq: number; hash: Buffer },
  ): Promise<boolean> {
    const { params, p } = parameters([to.seq, to.hash, from.seq, from.hash]);
    const rows: unknown[] = await this.router.run((ds) =>
      ds.query(
        `WITH advanced AS (
           UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1 AND seq = $3 AND hash = $4 RETURNING 1
         )
         INSERT INTO audit_entries (${ENTRY_COLUMNS})
         SELECT * FROM unnest(${entryArrays(p, entries)}) WHERE EXISTS (SELECT FROM advanced)
         RETURNING seq`,
        params,
      ),
    );
    return rows.length === entries.length;
  }

  /** The tenant's schema and shared pool, when its placement is a schema of a shared database. */
  sharedSchemaOf(tenant: TenantSlug): Promise<SharedSchema | null> {
    return this.router.sharedSchemaOf(tenant);
  }

  /** Runs `work` in one transaction on the shared pool `pool`, as {@link AUDIT_APPENDER_ROLE}. */
  spanning<T>(pool: string, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.router.runSpanning(pool, AUDIT_APPENDER_ROLE, work);
  }

  /** Of `schemas`, those whose audit chain the appender role may advance (granted by the migration). */
  async appendable(manager: EntityManager, schemas: readonly string[]): Promise<Set<string>> {
    const rows: Array<{ schema: string }> = await manager.query(
      `SELECT n.nspname AS schema
         FROM pg_namespace n
         JOIN pg_class e ON e.relnamespace = n.oid AND e.relname = 'audit_entries'
         JOIN pg_class h ON h.relnamespace = n.oid AND h.relname = 'audit_head'
        WHERE n.nspname = ANY($1::text[])
          AND has_schema_privilege(n.oid, 'USAGE')
          AND has_table_privilege(e.oid, 'INSERT')
          AND has_table_privilege(h.oid, 'SELECT') AND has_table_privilege(h.oid, 'UPDATE')`,
      [schemas],
    );
    return new Set(rows.map((row) => row.schema));
  }

  /** The chain heads of `schemas`, in one statement. */
  async headsOf(manager: EntityManager, schemas: readonly string[]): Promise<Map<string, AuditHeadEntity>> {
    if (schemas.length === 0) return new Map();
    const rows: Array<{ i: number; seq: string; hash: Buffer }> = await manager.query(
      schemas
        .map(
          (schema, i) =>
            `SELECT ${i} AS i, seq::text AS seq, hash FROM ${qualified(schema, 'audit_head')} WHERE id = 1`,
        )
        .join(' UNION ALL '),
    );
    return new Map(
      rows.map((row) => [
        schemas[row.i]!,
        Object.assign(new AuditHeadEntity(), { id: 1, seq: Number(row.seq), hash: row.hash }),
      ]),
    );
  }

  /**
   * For each tenant of `appends`, what {@link appendAfter} does, all in **one statement**: the
   * head moves from `from` to `to` only if it still is `from` and no transaction holds it (a
   * mutation appending under its lock is skipped, not waited for: `SKIP LOCKED`), and the records
   * are written only if it moved. Returns the schemas whose head moved; the others wrote nothing.
   */
  async appendAcross(manager: EntityManager, appends: readonly SpanAppend[]): Promise<Set<string>> {
    const { params, p } = parameters();
    const ctes = appends.flatMap((append, i) => {
      const head = qualified(append.schema, 'audit_head');
      return [
        `h${i} AS (SELECT id FROM ${head} WHERE id = 1 AND seq = ${p(append.from.seq)} AND hash = ${p(append.from.hash)} FOR UPDATE SKIP LOCKED)`,
        `a${i} AS (UPDATE ${head} SET seq = ${p(append.to.seq)}, hash = ${p(append.to.hash)} WHERE id IN (SELECT id FROM h${i}) RETURNING ${i} AS i)`,
        `w${i} AS (INSERT INTO ${qualified(append.schema, 'audit_entries')} (${ENTRY_COLUMNS})
           SELECT * FROM unnest(${entryArrays(p, append.entries)}) WHERE EXISTS (SELECT FROM a${i}))`,
      ];
    });
    const moved: Array<{ i: number }> = await manager.query(
      `WITH ${ctes.join(',\n')}\n${appends.map((_, i) => `SELECT i FROM a${i}`).join(' UNION ALL ')}`,
      params,
    );
    return new Set(moved.map((row) => appends[row.i]!.schema));
  }

  /** Records after `afterSeq`, oldest first. */
  page(afterSeq: number, limit: number): Promise<AuditEntryEntity[]> {
    return this.router.run((ds) =>
      ds
        .getRepository(AuditEntryEntity)
        .find({ where: { seq: MoreThan(afterSeq) }, order: { seq: 'ASC' }, take: limit }),
    );
  }

  /** Records after `afterSeq` up to `toSeq` (the head read before: later records are not looked at), oldest first. */
  pageUpTo(afterSeq: number, toSeq: number, limit: number): Promise<AuditEntryEntity[]> {
    return this.router.run((ds) =>
      ds.getRepository(AuditEntryEntity).find({
        where: { seq: And(MoreThan(afterSeq), LessThanOrEqual(toSeq)) },
        order: { seq: 'ASC' },
        take: limit,
      }),
    );
  }

  /** The highest `seq` stored (0 when there is none): one step down the primary key. */
  async lastSeq(): Promise<number> {
    const rows: Array<{ seq: string | null }> = await this.router.run((ds) =>
      ds.query('SELECT max(seq)::text AS seq FROM audit_entries'),
    );
    return Number(rows[0]?.seq ?? 0);
  }

  head(): Promise<AuditHeadEntity | null> {
    return this.router.run((ds) => ds.getRepository(AuditHeadEntity).findOneBy({ id: 1 }));
  }
}

/** `"schema".table` for a catalog schema name (checked: nothing else is ever spliced here). */
function qualified(schema: string, table: 'audit_entries' | 'audit_head'): string {
  if (!SCHEMA_NAME.test(schema)) throw new Error(`refusing the schema name ${JSON.stringify(schema)}`);
  return `"${schema}".${table}`;
}
