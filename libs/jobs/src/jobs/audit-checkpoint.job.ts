import { Contracts, type AuditCheckpointOutcome } from '#polystore/messaging';
import type { TenantJob } from '../tenant-job.js';

/**
 * Catch-up of the secure store's audit checkpoints: every 15 minutes, each tenant's chain is
 * checkpointed if its head moved since its last checkpoint (checked from there first), or if
 * that checkpoint was signed by an older master key version. The secure store checkpoints a
 * tenant on its own after its appends (`AUDIT_CHECKPOINT_EVERY`, `AUDIT_CHECKPOINT_INTERVAL_MS`);
 * this job covers what a killed process had counted and never wrote, chains from before
 * checkpoints existed, and moves every checkpoint to the current key before an old version is
 * retired. Idempotent: a tenant whose checkpoint is at its head is `unchanged`.
 */
export const auditCheckpointJob: TenantJob<AuditCheckpointOutcome> = {
  name: 'audit-checkpoint',
  description: "Each tenant's audit chain checked since its last signed checkpoint and checkpointed at its head",
  intervalMs: 15 * 60_000,
  // The first checkpoint of a long chain checks all of it, page by page.
  tenantTimeoutMs: 120_000,
  concurrency: 4,

  run(_tenant, { messages }) {
    return messages.request(Contracts.secure.audit.checkpoint, {});
  },
};
