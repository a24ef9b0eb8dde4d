export { JobsErrorCode, JobsException } from './jobs.exception.js';
export type { TenantJob, TenantJobContext } from './tenant-job.js';
export {
  forEachTenant,
  TenantSkipped,
  type ForEachTenantOptions,
  type RunProgress,
  type TenantRunReport,
} from './tenant-iterator.js';
export { JobRunLog, type RunRecord, type RunState, type TenantOutcome, type TenantStatus } from './job-run-log.js';
export { JobScheduler, slotOf, type JobRunResult, type JobSchedulerOptions } from './job-scheduler.js';
export { JOB_MIGRATIONS } from './migrations/index.js';
export {
  BUILTIN_JOBS,
  IDEMPOTENCY_PURGE_BATCH,
  OFFLINE_AFTER_MS,
  READINGS_METRIC,
  USAGE_ROLLUP_LOOKBACK_MS,
  auditCheckpointJob,
  deviceOfflineJob,
  idempotencyPurgeJob,
  rollupWindow,
  usageRollupJob,
  type DeviceOfflineResult,
  type IdempotencyPurgeResult,
  type UsageRollupResult,
} from './jobs/index.js';
export { JobsModule, type JobsModuleOptions } from './jobs.module.js';
