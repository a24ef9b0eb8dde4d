// Jest's test order (`testSequencer` in jest.config.js): longest suite first, by the durations
// committed in suite-durations.json, so the two workers finish together even on a clean clone.
// Jest's own order needs its cache (the last run's durations), which a clean clone has not: it
// then goes by file size, and a long suite in a short file (a fixed outage, a 30-tenant setup)
// started last kept one worker busy minutes after the other was done.
//
// Order: a suite that failed in the last run on this machine first (jest's cache, as jest does);
// then, longest first, by the committed duration, else by the cached one; suites with neither
// (new ones) before all of those, the largest file first (jest's fallback). Refresh the file with
// `node test/support/update-suite-durations.mjs <jest --json output>` (README, Tests).
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import TestSequencer from '@jest/test-sequencer';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Seconds per suite, by path from the repository root (posix separators). */
const committed = JSON.parse(readFileSync(new URL('./suite-durations.json', import.meta.url), 'utf8')).suites;

export default class DurationSequencer extends TestSequencer {
  /** The suite's expected run time in ms: committed, else jest's cached one, else none. */
  time(test) {
    const seconds = committed[relative(ROOT, test.path).split('\\').join('/')];
    return seconds === undefined ? super.time(test) : seconds * 1_000;
  }
}
