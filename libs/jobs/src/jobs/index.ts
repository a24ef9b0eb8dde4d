import type { TenantJob } from '../tenant-job.js';
import { auditCheckpointJob } from './audit-checkpoint.job.js';
import { deviceOfflineJob } from './device-offline.job.js';
import { idempotencyPurgeJob } from './idempotency-purge.job.js';
import { usageRollupJob } from './usage-rollup.job.js';

export { auditCheckpointJob } from './audit-checkpoint.job.js';
export { OFFLINE_AFTER_MS, deviceOfflineJob, type DeviceOfflineResult } from './device-offline.job.js';
export { IDEMPOTENCY_PURGE_BATCH, idempotencyPurgeJob, type IdempotencyPurgeResult } from './idempotency-purge.job.js';
export {
  READINGS_METRIC,
  USAGE_ROLLUP_LOOKBACK_MS,
  rollupWindow,
  usageRollupJob,
  type UsageRollupResult,
} from './usage-rollup.job.js';

/** The jobs every deployment schedules (see `libs/jobs/README.md`, "Built-in jobs"). */
export const BUILTIN_JOBS: readonly TenantJob[] = [
  usageRollupJob,
  deviceOfflineJob,
  idempotencyPurgeJob,
  auditCheckpointJob,
];
