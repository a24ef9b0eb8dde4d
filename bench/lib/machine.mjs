// What the numbers were measured on: hardware, software and the code's revision.
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { ROOT } from './config.mjs';
import { serverFacts } from './pg.mjs';

/** Output of a git command in the repository, or null. */
function git(args) {
  const result = spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trimEnd() : null;
}

/** Machine info for the results file (`os.cpus()`, memory, Node, PostgreSQL, git). */
export async function machineInfo(pgServerUrl) {
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
    loadAverageAtStart: os.loadavg().map((n) => Math.round(n * 100) / 100),
    git: {
      commit: git(['rev-parse', 'HEAD'])?.trim() ?? null,
      // Uncommitted changes in the code under test, if any: the numbers include them.
      uncommittedInCode: dirty ? dirty.split('\n') : [],
    },
  };
}
