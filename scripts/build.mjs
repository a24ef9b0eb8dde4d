// Compiles apps/ and libs/ (and the benchmark floor, bench/baseline/, when present) to dist/
// with swc (type-checking is `npm run typecheck`).
import { existsSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const sources = [
  'apps',
  'libs',
  ...(existsSync(new URL('../bench/baseline', import.meta.url)) ? ['bench/baseline'] : []),
];
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
const result = spawnSync(
  process.execPath,
  [
    'node_modules/@swc/cli/bin/swc.js',
    ...sources,
    '-d',
    'dist',
    '--config-file',
    '.swcrc',
    '--ignore',
    '**/*.spec.ts',
    '-q',
  ],
  { cwd: root, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
