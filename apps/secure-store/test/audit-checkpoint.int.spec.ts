import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openSystemDatabase, type CatalogService } from '#polystore/catalog';
import { DatabaseAdmin, DataSourceRouter } from '#polystore/data-router';
import { MasterKeyring, randomKey } from '#polystore/platform';
import { parseTenantSlug, runAsTenant, type TenantSlug } from '#polystore/tenancy';
import type { DataSource } from 'typeorm';
import { eventually } from '../../../test/support/eventually.js';
import { uniqueToken } from '../../../test/support/ids.js';
import { dropDatabasesLike, pgQuery } from '../../../test/support/pg.js';
import { TestServices } from '../../../test/support/services.js';
import { AuditCheckpointRepository } from '../src/audit/audit-checkpoint.repository.js';
import { CheckpointSigner, type AuditCheckpoint } from '../src/audit/audit-checkpoint.util.js';
import type { AuditCheckpointOptions } from '../src/audit/audit-checkpointer.service.js';
import { VERIFY_PAGE } from '../src/audit/audit-verifier.service.js';
import { TenantKeyRepository } from '../src/crypto/tenant-key.repository.js';
import { auditCatalogOf, auditProcessOf, type AuditProcess } from './audit-harness.js';
import { TenantKeyWrapper } from '../src/crypto/tenant-key-wrap.util.js';
import { SECURE_SCHEMA } from '../src/secure.schema.js';
import { databasePerTenant } from '../../../test/support/db.js';

const ring = MasterKeyring.single(Buffer.alloc(32, 31));
const run = uniqueToken(6);
const dbPrefix = `ps_rt_${run}_audit_`;
const databaseOf = (tenant: string) => `${dbPrefix}${tenant.replace(/-/g, '_')}`;

/** SQL on the tenant's own database, outside the store's code (what an intruder there can do). */
const tenantSql = <R extends Record<string, unknown>>(tenant: string, text: string, params: unknown[] = []) =>
  pgQuery<R>(text, params, databaseOf(tenant));

const inTenant = <T>(tenant: TenantSlug, work: () => Promise<T>) => runAsTenant(tenant, work, 60_000);

describe('secure-store - signed audit checkpoints in the catalog, on the real PostgreSQL', () => {
  let db: DataSource;
  let router: DataSourceRouter;
  let catalog: CatalogService;
  const tenantIds = new Map<string, string>();

  const startProcess = (options: Partial<AuditCheckpointOptions> = {}): AuditProcess =>
    auditProcessOf(router, db, catalog, ring, options);

  /** A tenant in the catalog with its secure database migrated and its data key provisioned. */
  async function newTenant(name: string): Promise<TenantSlug> {
    const tenant = parseTenantSlug(`ac-${name}-${uniqueToken(4)}`);
    const id = randomUUID();
    await db.query(`INSERT INTO tenants (id, slug, name, status, key_label) VALUES ($1, $2, $3, 'active', $2)`, [
      id,
      tenant,
      name,
    ]);
    tenantIds.set(tenant, id);
    await DatabaseAdmin.ensureDatabase(TestServices.postgresUrl, databaseOf(tenant));
    await inTenant(tenant, async () => {
      await router.migrate();
      const { wrappedKey, kekVersion } = new TenantKeyWrapper(ring).wrap(tenant, 1, randomKey());
      await new TenantKeyRepository(router).insertFirst(wrappedKey, kekVersion);
    });
    return tenant;
  }

  /** `n` audited reads at once (group-committed, as under load). */
  const appendReads = (p: AuditProcess, tenant: TenantSlug, n: number) =>
    inTenant(tenant, () =>
      Promise.all(
        Array.from({ length: n }, () => p.log.record({ action: 'customer.read', subjectId: null, outcome: 'ok' })),
      ),
    );

  const storedCheckpoint = (tenant: string): Promise<AuditCheckpoint | null> =>
    new AuditCheckpointRepository(db).latest(tenantIds.get(tenant)!);

  /** A tenant with `n` records and a checkpoint written at `n`. */
  async function tenantCheckpointedAt(p: AuditProcess, name: string, n: number): Promise<TenantSlug> {
    const tenant = await newTenant(name);
    await appendReads(p, tenant, n);
    await expect(inTenant(tenant, () => p.checkpointer.checkpointCurrentTenant())).resolves.toEqual({
      outcome: 'written',
      seq: n,
      reason: null,
    });
    return tenant;
  }

  beforeAll(async () => {
    db = await openSystemDatabase({
      url: TestServices.systemDbUrl,
      poolSize: 4,
      applicationName: `audit-checkpoint-int-${run}`,
    });
    router = new DataSourceRouter({
      name: `audit-int-${run}`,
      resolvePlacement: databasePerTenant(databaseOf),
      schema: SECURE_SCHEMA,
      poolSize: 4,
      connectionBudget: 30,
      idleTtlMs: 60_000,
      maxWaiters: 5_000,
      acquireTimeoutMs: 10_000,
      breaker: { consecutiveFailures: 1_000, halfOpenAfterMs: 1 },
      applicationName: `audit-int-${run}`,
    });
    catalog = auditCatalogOf(db);
  }, 60_000);

  afterAll(async () => {
    await router?.close();
    if (db?.isInitialized) {
      await db.query('DELETE FROM tenants WHERE id = ANY($1::uuid[])', [[...tenantIds.values()]]);
      await db.destroy();
    }
    await dropDatabasesLike(dbPrefix);
  }, 60_000);

  it('writes a checkpoint once N records were appended (not before), off the append path, and its signature verifies', async () => {
    const p = startProcess({ everyEntries: 5 });
    const tenant = await newTenant('every');
    for (let i = 0; i < 4; i++) await appendReads(p, tenant, 1);
    // Four appends, one statement each: nothing was written to the catalog for them.
    expect(await storedCheckpoint(tenant)).toBeNull();
    await appendReads(p, tenant, 1);
    const checkpoint = await eventually(() => storedCheckpoint(tenant), { what: 'a checkpoint in the catalog' });
    expect(checkpoint.seq).toBe(5);
    expect(checkpoint.tenantId).toBe(tenantIds.get(tenant));
    const head = (await tenantSql<{ hash: Buffer }>(tenant, 'SELECT hash FROM audit_head'))[0]!;
    expect(checkpoint.hash.equals(head.hash)).toBe(true);
    expect(new CheckpointSigner(ring).check(checkpoint)).toBe('verified');
    // Another deployment's master key does not vouch for it.
    expect(new CheckpointSigner(MasterKeyring.single(Buffer.alloc(32, 32))).check(checkpoint)).toBe('forged');
  });

  it('writes a checkpoint T after an append when fewer than N came, and none while the chain stands still', async () => {
    const p = startProcess({ everyEntries: 1_000, intervalMs: 150 });
    p.checkpointer.onApplicationBootstrap();
    try {
      const tenant = await newTenant('interval');
      await appendReads(p, tenant, 3);
      const first = await eventually(() => storedCheckpoint(tenant), { what: 'a checkpoint after the interval' });
      expect(first.seq).toBe(3);
      await expect(inTenant(tenant, () => p.checkpointer.checkpointCurrentTenant())).resolves.toMatchObject({
        outcome: 'unchanged',
        seq: 3,
      });
      await appendReads(p, tenant, 2);
      await eventually(async () => (await storedCheckpoint(tenant))?.seq === 5, { what: 'the checkpoint at 5' });
    } finally {
      await p.checkpointer.beforeApplicationShutdown();
    }
  });

  it(`verify - the default mode reads only from the checkpoint on; full mode reads everything (${VERIFY_PAGE}-record pages) and finds an early change`, async () => {
    const p = startProcess();
    const count = 2 * VERIFY_PAGE + 500;
    const tenant = await tenantCheckpointedAt(p, 'range', count);
    await appendReads(p, tenant, 10);
    const fromCheckpoint = await inTenant(tenant, () => p.verifier.verify('checkpoint'));
    expect(fromCheckpoint).toMatchObject({
      valid: true,
      mode: 'checkpoint',
      fromSeq: count,
      toSeq: count + 10,
      checked: 11,
      headSeq: count + 10,
      checkpoint: { seq: count, status: 'verified' },
      missing: null,
    });
    const full = await inTenant(tenant, () => p.verifier.verify('full'));
    expect(full).toMatchObject({ valid: true, mode: 'full', fromSeq: 1, toSeq: count + 10, checked: count + 10 });

    // An early record changed in the database: below the checkpoint, the default mode does not
    // read it (that is what bounds it); the full mode does.
    await tenantSql(tenant, `UPDATE audit_entries SET outcome = 'not_found' WHERE seq = 3`);
    await expect(inTenant(tenant, () => p.verifier.verify('checkpoint'))).resolves.toMatchObject({ valid: true });
    await expect(inTenant(tenant, () => p.verifier.verify('full'))).resolves.toMatchObject({
      valid: false,
      firstInvalidSeq: 3,
      reason: 'record modified',
      mode: 'full',
    });
  });

  it('verify - the newest records deleted and the head moved back is reported as truncation, naming the missing range, in both modes; no checkpoint is signed over it', async () => {
    const p = startProcess();
    const tenant = await tenantCheckpointedAt(p, 'truncate', 20);
    // Without the checkpoint this chain is intact: records 1..14, and a head that names 14.
    await tenantSql(tenant, 'DELETE FROM audit_entries WHERE seq > 14');
    await tenantSql(tenant, 'UPDATE audit_head SET seq = 14, hash = (SELECT hash FROM audit_entries WHERE seq = 14)');

    for (const mode of ['checkpoint', 'full'] as const) {
      await expect(inTenant(tenant, () => p.verifier.verify(mode))).resolves.toMatchObject({
        valid: false,
        reason: 'truncated',
        firstInvalidSeq: 15,
        missing: { fromSeq: 15, toSeq: 20 },
        headSeq: 14,
        checkpoint: { seq: 20, status: 'verified' },
      });
    }
    // The default mode read nothing below the checkpoint to say so.
    await expect(inTenant(tenant, () => p.verifier.verify('checkpoint'))).resolves.toMatchObject({ checked: 0 });

    // Appends after the truncation reuse the lost numbers: the record at 20 is not the one signed.
    await appendReads(p, tenant, 8);
    await expect(inTenant(tenant, () => p.verifier.verify('checkpoint'))).resolves.toMatchObject({
      valid: false,
      firstInvalidSeq: 20,
      reason: 'checkpoint mismatch',
    });
    await expect(inTenant(tenant, () => p.checkpointer.checkpointCurrentTenant())).resolves.toEqual({
      outcome: 'refused',
      seq: 20,
      reason: 'checkpoint mismatch',
    });
    expect((await storedCheckpoint(tenant))?.seq).toBe(20);
  });

  it('verify - the newest records deleted with the head left alone is truncation too', async () => {
    const p = startProcess();
    const tenant = await tenantCheckpointedAt(p, 'tail', 12);
    await appendReads(p, tenant, 3);
    await tenantSql(tenant, 'DELETE FROM audit_entries WHERE seq > 9');
    await expect(inTenant(tenant, () => p.verifier.verify('checkpoint'))).resolves.toMatchObject({
      valid: false,
      reason: 'truncated',
      missing: { fromSeq: 10, toSeq: 15 },
    });
  });

  it('a forged checkpoint row (changed hash or seq, or another tenant’s row) is reported and never signed over; an unknown key version is not trusted either', async () => {
    const p = startProcess();
    const tenant = await tenantCheckpointedAt(p, 'forged', 10);
    const other = await tenantCheckpointedAt(p, 'other', 10);
    const id = tenantIds.get(tenant)!;
    const genuine = (await storedCheckpoint(tenant))!;
    // Whoever writes the catalog points the checkpoint below a truncation they are about to make.
    await db.query(`UPDATE audit_checkpoints SET seq = 6, head_hash = $2 WHERE tenant_id = $1`, [
      id,
      (await tenantSql<{ hash: Buffer }>(tenant, 'SELECT hash FROM audit_entries WHERE seq = 6'))[0]!.hash,
    ]);
    await expect(inTenant(tenant, () => p.verifier.verify('checkpoint'))).resolves.toMatchObject({
      valid: false,
      reason: 'checkpoint forged',
      mode: 'full',
      checked: 10,
      checkpoint: { seq: 6, status: 'forged' },
    });
    await expect(inTenant(tenant, () => p.checkpointer.checkpointCurrentTenant())).resolves.toMatchObject({
      outcome: 'refused',
      reason: 'checkpoint forged',
    });
    expect((await storedCheckpoint(tenant))?.seq).toBe(6);

    // The other tenant's genuine row copied over: signed for another tenant id.
    await db.query(
      `UPDATE audit_checkpoints t SET seq = o.seq, head_hash = o.head_hash, at = o.at, signature = o.signature
         FROM audit_checkpoints o WHERE t.tenant_id = $1 AND o.tenant_id = $2`,
      [id, tenantIds.get(other)],
    );
    await expect(inTenant(tenant, () => p.verifier.verify('checkpoint'))).resolves.toMatchObject({
      valid: false,
      checkpoint: { status: 'forged' },
    });

    // The genuine row with its key version changed to one MASTER_KEY does not list.
    await db.query(
      `UPDATE audit_checkpoints SET seq = $2, head_hash = $3, at = $4, signature = $5, key_version = 9 WHERE tenant_id = $1`,
      [id, genuine.seq, genuine.hash, genuine.at, genuine.signature],
    );
    await expect(inTenant(tenant, () => p.verifier.verify('checkpoint'))).resolves.toMatchObject({
      valid: false,
      reason: 'checkpoint unverifiable',
      checkpoint: { status: 'unverifiable' },
    });
    // Put back as signed, it is trusted again.
    await db.query('UPDATE audit_checkpoints SET key_version = $2 WHERE tenant_id = $1', [id, genuine.keyVersion]);
    await expect(inTenant(tenant, () => p.verifier.verify('checkpoint'))).resolves.toMatchObject({
      valid: true,
      mode: 'checkpoint',
      checkpoint: { status: 'verified' },
    });
  });

  it('a restarted process (nothing in memory) continues from the checkpoint in the catalog; a replica never steps it back', async () => {
    const before = startProcess();
    const tenant = await tenantCheckpointedAt(before, 'restart', 7);
    const written = (await storedCheckpoint(tenant))!;

    const after = startProcess({ everyEntries: 5 });
    for (let i = 0; i < 5; i++) await appendReads(after, tenant, 1);
    await eventually(async () => (await storedCheckpoint(tenant))!.seq === 12, { what: 'the checkpoint at 12' });
    const next = (await storedCheckpoint(tenant))!;
    expect(new CheckpointSigner(ring).check(next)).toBe('verified');
    await expect(inTenant(tenant, () => after.verifier.verify('checkpoint'))).resolves.toMatchObject({
      valid: true,
      fromSeq: 12,
      checkpoint: { seq: 12 },
    });

    // A process that read the checkpoint at 7 and was overtaken: its write does not land.
    const stale = new CheckpointSigner(ring).sign(tenantIds.get(tenant)!, { seq: 9, hash: next.hash }, new Date());
    await expect(new AuditCheckpointRepository(db).advance(written, stale)).resolves.toBe(false);
    expect((await storedCheckpoint(tenant))!.seq).toBe(12);
  });

  it("deleting the tenant's catalog row deletes its checkpoint", async () => {
    const p = startProcess();
    const tenant = await tenantCheckpointedAt(p, 'gone', 2);
    await db.query('DELETE FROM tenants WHERE id = $1', [tenantIds.get(tenant)]);
    const rows: unknown[] = await db.query('SELECT 1 FROM audit_checkpoints WHERE tenant_id = $1', [
      tenantIds.get(tenant),
    ]);
    expect(rows).toEqual([]);
  });
});
