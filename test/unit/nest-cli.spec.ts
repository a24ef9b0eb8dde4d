import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';

// nest-cli.json drives `nest build <app>` and `nest start <app> --watch` (npm run dev -- <app>):
// each application compiles its own sources and the libraries with swc, into the layout that
// `npm run build` produces and the package's "imports" map expects (dist/apps/<app>/src/main.js,
// dist/libs/<lib>/src/index.js).

const ROOT = new URL('../..', import.meta.url).pathname;
type Project = {
  type: 'application' | 'library';
  root: string;
  sourceRoot: string;
  entryFile: string;
  compilerOptions?: { builder: { type: string; options: { filenames: string[]; outDir: string } } };
};
const config = JSON.parse(readFileSync(`${ROOT}nest-cli.json`, 'utf8')) as { projects: Record<string, Project> };
const out = mkdtempSync(join(tmpdir(), 'nest-build-'));

afterAll(() => rmSync(out, { recursive: true, force: true }));

function dirs(path: string): string[] {
  return readdirSync(`${ROOT}${path}`, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}

/** Relative paths of the files under `dir` whose names end with `suffix`, tests left out. */
function filesUnder(dir: string, suffix: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((file) => file.endsWith(suffix) && !file.endsWith(`.spec${suffix}`) && !file.split('/').includes('test'))
    .map((file) => relative(dir, join(dir, file)))
    .sort();
}

describe('nest-cli.json - the Nest CLI builds and runs each app', () => {
  it('nest-cli - every app and every lib of the repository is a project, each app compiling itself and the libs', () => {
    const projects = Object.entries(config.projects);
    const named = (type: Project['type']) =>
      projects
        .filter(([, p]) => p.type === type)
        .map(([name]) => name)
        .sort();
    expect(named('application')).toEqual(dirs('apps'));
    expect(named('library')).toEqual(dirs('libs'));
    for (const [name, project] of projects.filter(([, p]) => p.type === 'application')) {
      expect(project).toMatchObject({ root: `apps/${name}`, sourceRoot: `apps/${name}/src`, entryFile: 'main' });
      expect(project.compilerOptions?.builder.options).toMatchObject({
        filenames: [`apps/${name}/src`, 'libs'],
        outDir: 'dist',
      });
    }
  });

  it('nest-cli - `nest build cli` emits every source of the app and the libs where the imports map looks', () => {
    // The same configuration, writing somewhere else than dist/ (which the other tests run from).
    const copy = structuredClone(config);
    for (const project of Object.values(copy.projects)) {
      if (project.compilerOptions) project.compilerOptions.builder.options.outDir = out;
    }
    // The CLI reads -c relative to the working directory, even an absolute path.
    mkdirSync(`${ROOT}.polystore`, { recursive: true });
    const configFile = `.polystore/nest-cli.test-${process.pid}.json`;
    writeFileSync(`${ROOT}${configFile}`, JSON.stringify(copy));
    execFileSync(process.execPath, [`${ROOT}node_modules/@nestjs/cli/bin/nest.js`, 'build', 'cli', '-c', configFile], {
      cwd: ROOT,
      stdio: 'pipe',
    });
    rmSync(`${ROOT}${configFile}`);
    const expected = [
      ...filesUnder(`${ROOT}apps/cli/src`, '.ts').map((file) => `apps/cli/src/${file}`),
      ...dirs('libs').flatMap((lib) => filesUnder(`${ROOT}libs/${lib}/src`, '.ts').map((f) => `libs/${lib}/src/${f}`)),
    ]
      .filter((file) => !file.endsWith('.d.ts'))
      .map((file) => file.replace(/\.ts$/, '.js'))
      .sort();
    const emitted = filesUnder(out, '.js').filter((file) => file.startsWith('apps/') || file.startsWith('libs/'));
    expect(emitted).toEqual(expected);
    // ES modules with full specifiers, as Node's resolver needs them.
    expect(readFileSync(join(out, 'apps/cli/src/main.js'), 'utf8')).toMatch(/^import .* from ['"]\.\/.*\.js['"];$/m);
  }, 60_000);
});
