// What the numbers were measured on: hardware, software and the code's revision.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { ROOT } from './config.mjs';
import { serverFacts } from './pg.mjs';

/** Output of a git command in the repository, or null. */
function git(args) {
  const result = spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trimEnd() : null;
}

/** `<appsRoot>/snapshot.json` (written by bench/snapshot.mjs), or null. */
function snapshotOf(appsRoot) {
  const file = join(appsRoot, 'snapshot.json');
  if (appsRoot === ROOT || !existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

/**
 * Machine info for the results file (`os.cpus()`, memory, load, Node, PostgreSQL, git, and where
 * the built apps were taken from).
 */
export async function machineInfo(pgServerUrl, appsRoot = ROOT) {
  const cpus = os.cpus();
  const pg = await serverFacts(pgServerUrl);
  const dirty = git(['status', '--porcelain', '--', 'apps', 'libs', 'scripts', 'package.json']);
  return {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cpuCount: cpus.length,
    totalMemoryBytes: os.totalmem(),
    totalMemoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    nodeVersion: process.version,
    postgresVersion: pg.version,
    postgresMaxConnections: pg.max_connections,
    postgresSuperuserReserved: pg.superuser_reserved_connections,
    loadAverageAtStart: os.loadavg().map((n) => Math.round(n * 100) / 100),
    git: {
      commit: git(['rev-parse', 'HEAD'])?.trim() ?? null,
      // Uncommitted changes in the code under test, if any: the numbers include them.
      uncommittedInCode: dirty ? dirty.split('\n') : [],
    },
    /** The directory the built apps ran from (the repository, or a snapshot of a build). */
    appsRoot: appsRoot === ROOT ? '.' : appsRoot,
    /** bench/snapshot.mjs's record of the commit the apps were built from, when they ran from a snapshot. */
    snapshot: snapshotOf(appsRoot),
  };
}
