// Writes test/support/suite-durations.json (the test order of duration-sequencer.mjs) from the
// output of a full run: `npm test -- --json --outputFile=/tmp/suite.json`, then
// `node test/support/update-suite-durations.mjs /tmp/suite.json`. Use a run of the whole suite
// (two workers side by side, as in CI): a suite run alone is faster than it is there.
import { readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const OUT = new URL('./suite-durations.json', import.meta.url);

const input = process.argv[2];
if (!input) {
  console.error('usage: node test/support/update-suite-durations.mjs <jest --json output file>');
  process.exit(2);
}
const run = JSON.parse(readFileSync(input, 'utf8'));
const measured = run.testResults
  .filter((suite) => suite.startTime > 0 && suite.endTime >= suite.startTime)
  .map((suite) => [relative(ROOT, suite.name).split('\\').join('/'), (suite.endTime - suite.startTime) / 1_000]);
if (measured.length === 0) {
  console.error(`${input}: no suite with a start and end time`);
  process.exit(1);
}
measured.sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1));
const suites = Object.fromEntries(measured.map(([path, seconds]) => [path, Math.round(seconds * 10) / 10]));
const file = {
  about:
    'Seconds per test suite in a full run on two workers: the order of test/support/duration-sequencer.mjs. Refresh: node test/support/update-suite-durations.mjs <jest --json output>.',
  measured: new Date(run.startTime).toISOString(),
  suites,
};
writeFileSync(OUT, `${JSON.stringify(file, null, 2)}\n`);
const total = measured.reduce((sum, [, seconds]) => sum + seconds, 0);
console.log(`${fileURLToPath(OUT)}: ${measured.length} suites, ${Math.round(total)} s summed`);
