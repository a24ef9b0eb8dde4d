#!/usr/bin/env node
// Builds a private snapshot of the apps for a benchmark run on a machine shared with other work
// (a rebuild of dist/ by a test run would otherwise pull the apps away mid-run, and uncommitted
// edits of apps/ or libs/ would be measured):
//   node bench/snapshot.mjs /tmp/polystore-bench-build [<commit> | --working-tree]
//   BENCH_APPS_ROOT=/tmp/polystore-bench-build node bench/run.mjs
// Compiles apps/ and libs/ of <commit> (default HEAD, from `git archive`, so the working tree's
// uncommitted changes are left out) and the working tree's bench/baseline/ into <dir>/dist/,
// with package.json, a node_modules link to the repository's, and <dir>/snapshot.json naming the
// commit (the results report it). `--working-tree` takes apps/, libs/, package.json and .swcrc as
// they are in the working tree instead (uncommitted changes included; snapshot.json then lists
// the files that differ from HEAD). The directory is replaced.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync, writeFileSync, cpSync, copyFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ROOT } from './lib/config.mjs';

const [dirArg, commitArg = 'HEAD'] = process.argv.slice(2);
const workingTree = commitArg === '--working-tree';
if (!dirArg) {
  console.error('usage: node bench/snapshot.mjs <directory> [<commit> | --working-tree]');
  process.exit(2);
}
const dir = resolve(dirArg);
if (dir === ROOT || ROOT.startsWith(`${dir}/`)) throw new Error(`refusing to replace ${dir}`);

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: ROOT, encoding: 'utf8', ...options });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr || result.stdout}`);
  return result.stdout.trim();
}

const commit = run('git', ['rev-parse', workingTree ? 'HEAD' : commitArg]);
rmSync(dir, { recursive: true, force: true });
const src = join(dir, 'src');
mkdirSync(src, { recursive: true });
if (workingTree) {
  for (const entry of ['apps', 'libs']) cpSync(join(ROOT, entry), join(src, entry), { recursive: true });
  for (const file of ['package.json', '.swcrc']) copyFileSync(join(ROOT, file), join(src, file));
} else {
  run('sh', ['-c', `git archive ${commit} apps libs package.json .swcrc | tar -x -C "${src}"`]);
}
cpSync(join(ROOT, 'bench/baseline'), join(src, 'bench/baseline'), { recursive: true });
run(
  process.execPath,
  [
    join(ROOT, 'node_modules/@swc/cli/bin/swc.js'),
    'apps',
    'libs',
    'bench/baseline',
    '-d',
    join(dir, 'dist'),
    '--config-file',
    '.swcrc',
    '--ignore',
    '**/*.spec.ts',
    '-q',
  ],
  { cwd: src },
);
copyFileSync(join(src, 'package.json'), join(dir, 'package.json'));
symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
writeFileSync(
  join(dir, 'snapshot.json'),
  `${JSON.stringify(
    {
      commit,
      createdAt: new Date().toISOString(),
      baseline: 'working tree',
      ...(workingTree
        ? {
            source: 'working tree',
            uncommitted: run('git', ['status', '--porcelain', '--', 'apps', 'libs', 'package.json'])
              .split('\n')
              .map((line) => line.trim())
              .filter(Boolean),
          }
        : {}),
    },
    null,
    2,
  )}\n`,
);
console.log(`built ${workingTree ? `the working tree (on ${commit})` : commit} into ${dir}`);
