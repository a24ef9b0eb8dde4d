import { JobRuns1764205200000 } from './1764205200000-job-runs.js';

/** The job-run log's migrations, in order: add them to the system database's migrations. */
export const JOB_MIGRATIONS = [JobRuns1764205200000] as const;
