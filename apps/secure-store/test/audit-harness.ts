import type { CatalogService } from '#polystore/catalog';
import type { DataSourceRouter } from '#polystore/data-router';
import type { MasterKeyring } from '#polystore/platform';
import type { TenantSlug } from '#polystore/tenancy';
import type { DataSource } from 'typeorm';
import { AuditCheckpointRepository } from '../src/audit/audit-checkpoint.repository.js';
import { CheckpointSigner } from '../src/audit/audit-checkpoint.util.js';
import { AuditCheckpointer, type AuditCheckpointOptions } from '../src/audit/audit-checkpointer.service.js';
import { AuditLog } from '../src/audit/audit-log.service.js';
import { AuditVerifier } from '../src/audit/audit-verifier.service.js';
import { AuditRepository } from '../src/audit/audit.repository.js';
import { TenantKeyRepository } from '../src/crypto/tenant-key.repository.js';
import { TenantKeyring } from '../src/crypto/tenant-keyring.service.js';

/**
 * Our own catalog service, reduced to what the audit asks of it, read from the real catalog's
 * `tenants` table. Tenants are labelled by their slug, as tenants from before labels: keys are
 * wrapped under the slug.
 */
export function auditCatalogOf(db: DataSource): CatalogService {
  return {
    findTenant: async (slug: TenantSlug) => {
      const rows: Array<{ id: string }> = await db.query('SELECT id FROM tenants WHERE slug = $1', [slug]);
      return rows[0] ? { id: rows[0].id, slug, status: 'active', keyLabel: slug } : null;
    },
    onTenantChanged: () => () => undefined,
  } as unknown as CatalogService;
}

/** The secure store's audit, wired by hand on the real databases: one "process" of it. */
export interface AuditProcess {
  readonly log: AuditLog;
  readonly verifier: AuditVerifier;
  readonly checkpointer: AuditCheckpointer;
}

/** An audit process on `router` (tenant data) and `db` (the catalog: checkpoints); checkpoints rare unless `options` say. */
export function auditProcessOf(
  router: DataSourceRouter,
  db: DataSource,
  catalog: CatalogService,
  ring: MasterKeyring,
  options: Partial<AuditCheckpointOptions> = {},
): AuditProcess {
  const repository = new AuditRepository(router);
  const keyring = new TenantKeyring(ring, new TenantKeyRepository(router), catalog);
  const checkpoints = new AuditCheckpointRepository(db);
  const verifier = new AuditVerifier(repository, checkpoints, new CheckpointSigner(ring), keyring, catalog);
  const checkpointer = new AuditCheckpointer(
    {
      everyEntries: 1_000_000,
      intervalMs: 3_600_000,
      concurrency: 4,
      timeoutMs: 60_000,
      shutdownGraceMs: 5_000,
      ...options,
    },
    verifier,
    checkpoints,
    new CheckpointSigner(ring),
  );
  return { log: new AuditLog(repository, keyring, checkpointer), verifier, checkpointer };
}
