#!/usr/bin/env node
// Summarizes the CPU profiles of a bench run (`--profile`): for each `.cpuprofile` in <dir>, where
// the process spent its CPU time, by area (Polystore's code, each npm package, Node's internals,
// garbage collection) and by function (self time), into <dir>/summary.md. The profiles themselves
// open as flame graphs in speedscope (https://www.speedscope.app) or Chrome DevTools.
//   node bench/profile-summary.mjs bench/results/profiles/<time>
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const TOP = 25;

/** The area a frame belongs to, from its script URL. */
function areaOf(callFrame) {
  const { url, functionName } = callFrame;
  if (!url) {
    if (functionName === '(garbage collector)') return 'garbage collection';
    if (functionName === '(idle)') return 'idle';
    if (functionName === '(program)') return 'program (native, unattributed)';
    return `native: ${functionName || '(anonymous)'}`;
  }
  if (url.startsWith('node:')) return 'node internals';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + '/node_modules/'.length).split('/');
    return `npm: ${rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  const app = /\/dist\/(apps|libs)\/([^/]+)\//.exec(url);
  return app ? `polystore: ${app[1]}/${app[2]}` : 'other';
}

/** Self time (ms) per node id: each sample's time delta goes to the node it landed in. */
function selfTimes(profile) {
  const self = new Map();
  const { samples = [], timeDeltas = [] } = profile;
  for (let i = 0; i < samples.length; i++) {
    // timeDeltas[i] is the time before sample i; attribute the next delta to this sample.
    const delta = (timeDeltas[i + 1] ?? 0) / 1000;
    self.set(samples[i], (self.get(samples[i]) ?? 0) + delta);
  }
  return self;
}

function table(rows, total, label) {
  const lines = [`| ${label} | ms | % of samples |`, '| --- | ---: | ---: |'];
  for (const [name, ms] of rows)
    lines.push(`| ${name.replace(/\|/g, '\\|')} | ${ms.toFixed(0)} | ${((100 * ms) / total).toFixed(1)} |`);
  return lines.join('\n');
}

/** The summary of one profile, as markdown. */
export function summarize(file) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const self = selfTimes(profile);
  const byArea = new Map();
  const byFunction = new Map();
  let total = 0;
  let idle = 0;
  for (const node of profile.nodes) {
    const ms = self.get(node.id) ?? 0;
    if (ms === 0) continue;
    const area = areaOf(node.callFrame);
    if (area === 'idle') {
      idle += ms;
      continue;
    }
    total += ms;
    byArea.set(area, (byArea.get(area) ?? 0) + ms);
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url ? `${url.replace(/^.*\/(dist|node_modules)\//, '$1/')}:${lineNumber + 1}` : '';
    const key = `${functionName || '(anonymous)'} ${where}`.trim();
    byFunction.set(key, (byFunction.get(key) ?? 0) + ms);
  }
  const sorted = (map) => [...map.entries()].sort((a, b) => b[1] - a[1]);
  const wallMs = (profile.endTime - profile.startTime) / 1000;
  return [
    `### ${basename(file, '.cpuprofile')}`,
    '',
    `${(wallMs / 1000).toFixed(1)} s profiled, ${(total / 1000).toFixed(1)} s on CPU (idle ${(idle / 1000).toFixed(1)} s).`,
    '',
    table(sorted(byArea), total, 'area'),
    '',
    table(sorted(byFunction).slice(0, TOP), total, `top ${TOP} functions (self time)`),
    '',
  ].join('\n');
}

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node bench/profile-summary.mjs <directory of .cpuprofile files>');
  process.exit(2);
}
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.cpuprofile'))
  .sort();
const text = [`# CPU profiles: ${dir}`, '', ...files.map((f) => summarize(join(dir, f)))].join('\n');
writeFileSync(join(dir, 'summary.md'), text);
process.stdout.write(`${text}\n`);
