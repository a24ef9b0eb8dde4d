import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

/** One sample line of a scrape. */
export interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** A metric family: its `# TYPE`, `# HELP` and samples. */
export interface Family {
  readonly name: string;
  type?: string;
  help?: string;
  readonly samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SUFFIXES: Record<string, readonly string[]> = {
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['_sum', '_count'],
};

/** The family a sample name belongs to, given the families declared so far. */
function familyOf(name: string, families: Map<string, Family>): Family | undefined {
  if (families.has(name)) return families.get(name);
  for (const [type, suffixes] of Object.entries(SUFFIXES)) {
    for (const suffix of suffixes) {
      if (!name.endsWith(suffix)) continue;
      const family = families.get(name.slice(0, -suffix.length));
      if (family?.type === type) return family;
    }
  }
  return undefined;
}

/** `{a="1",b="x\"y"}` (after the name) into labels; throws on a malformed set. */
function parseLabels(text: string): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 1;
  for (;;) {
    if (text[i] === '}') return { labels, rest: text.slice(i + 1) };
    const eq = text.indexOf('=', i);
    if (eq < 0) throw new Error('label without "="');
    const name = text.slice(i, eq).trim();
    if (!LABEL_NAME.test(name)) throw new Error(`bad label name "${name}"`);
    if (name in labels) throw new Error(`label "${name}" repeated`);
    if (text[eq + 1] !== '"') throw new Error(`label "${name}" value not quoted`);
    let value = '';
    let j = eq + 2;
    for (; j < text.length && text[j] !== '"'; j++) {
      if (text[j] === '\\') {
        const next = text[++j];
        if (next === 'n') value += '\n';
        else if (next === '\\' || next === '"') value += next;
        else throw new Error(`bad escape \\${next} in label "${name}"`);
      } else value += text[j];
    }
    if (j >= text.length) throw new Error(`unterminated value of label "${name}"`);
    labels[name] = value;
    i = j + 1;
    if (text[i] === ',') i++;
    else if (text[i] !== '}') throw new Error(`expected "," or "}" after label "${name}"`);
  }
}

/** A sample value as Prometheus reads it (Go's ParseFloat: `NaN` and `Inf` in any case). */
function parseValue(text: string): number {
  const special = text.toLowerCase();
  if (special === '+inf' || special === 'inf') return Infinity;
  if (special === '-inf') return -Infinity;
  if (special === 'nan') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`bad value "${text}"`);
  return Number(text);
}

/**
 * Parses the Prometheus text exposition format (0.0.4) strictly: every line well formed, each
 * family's TYPE before its samples and its samples together, histograms with cumulative buckets
 * ending in `+Inf` = `_count`. Returns the families and every problem found (none: a valid scrape).
 */
export function parseExposition(text: string): { families: Map<string, Family>; problems: string[] } {
  const families = new Map<string, Family>();
  const problems: string[] = [];
  const closed = new Set<string>();
  let current: Family | undefined;
  const lines = text.split('\n');
  if (text.length > 0 && !text.endsWith('\n')) problems.push('the scrape does not end with a newline');
  lines.forEach((line, index) => {
    const at = `line ${index + 1}`;
    if (line.trim() === '') return;
    try {
      if (line.startsWith('#')) {
        const match = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
        if (!match) return; // a plain comment
        const [, kind, name, rest = ''] = match;
        if (!NAME.test(name!)) throw new Error(`bad metric name "${name}"`);
        if (closed.has(name!)) throw new Error(`${name} declared again after other families`);
        let family = families.get(name!);
        if (!family) {
          family = { name: name!, samples: [] };
          families.set(name!, family);
        }
        if (current && current !== family) closed.add(current.name);
        current = family;
        if (kind === 'TYPE') {
          if (family.type) throw new Error(`${name} has two TYPE lines`);
          if (family.samples.length > 0) throw new Error(`TYPE of ${name} after its samples`);
          if (!TYPES.has(rest)) throw new Error(`${name} has unknown type "${rest}"`);
          family.type = rest;
        } else {
          if (family.help !== undefined) throw new Error(`${name} has two HELP lines`);
          family.help = rest;
        }
        return;
      }
      const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0];
      if (!name) throw new Error(`no metric name in "${line}"`);
      let rest = line.slice(name.length);
      let labels: Record<string, string> = {};
      if (rest.startsWith('{')) ({ labels, rest } = parseLabels(rest));
      const fields = rest.trim().split(/\s+/);
      if (!rest.startsWith(' ') || fields.length < 1 || fields.length > 2) throw new Error(`bad sample "${line}"`);
      const value = parseValue(fields[0]!);
      if (fields[1] !== undefined && !/^-?\d+$/.test(fields[1])) throw new Error(`bad timestamp in "${line}"`);
      const family = familyOf(name, families) ?? families.get(name) ?? { name, samples: [] };
      if (!families.has(family.name)) families.set(family.name, family);
      if (closed.has(family.name)) throw new Error(`samples of ${family.name} are not together`);
      if (current && current !== family) closed.add(current.name);
      current = family;
      family.samples.push({ name, labels, value });
    } catch (error) {
      problems.push(`${at}: ${(error as Error).message}`);
    }
  });
  for (const family of families.values()) if (family.type === 'histogram') problems.push(...histogramProblems(family));
  return { families, problems };
}

/** Buckets cumulative per series, a `+Inf` bucket equal to `_count`, a `_sum`. */
function histogramProblems(family: Family): string[] {
  const problems: string[] = [];
  const series = new Map<string, { buckets: Array<[number, number]>; count?: number; sum?: number }>();
  for (const sample of family.samples) {
    const { le, ...rest } = sample.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const entry = series.get(key) ?? { buckets: [] };
    series.set(key, entry);
    if (sample.name.endsWith('_bucket')) {
      if (le === undefined) problems.push(`${sample.name} without le`);
      else entry.buckets.push([parseValue(le), sample.value]);
    } else if (sample.name.endsWith('_count')) entry.count = sample.value;
    else if (sample.name.endsWith('_sum')) entry.sum = sample.value;
    else problems.push(`${sample.name} is not a histogram series of ${family.name}`);
  }
  for (const [key, entry] of series) {
    const sorted = [...entry.buckets].sort((a, b) => a[0] - b[0]);
    if (sorted.at(-1)?.[0] !== Infinity) problems.push(`${family.name}${key}: no +Inf bucket`);
    if (sorted.some(([, v], i) => i > 0 && v < sorted[i - 1]![1]))
      problems.push(`${family.name}${key}: buckets not cumulative`);
    if (entry.count === undefined || entry.sum === undefined) problems.push(`${family.name}${key}: no _count or _sum`);
    else if (sorted.at(-1)?.[1] !== entry.count) problems.push(`${family.name}${key}: +Inf bucket differs from _count`);
  }
  return problems;
}

/** Labels that would give one series per tenant (allowed only where per-tenant series are opted in). */
const TENANT_LABELS = /^(tenant|tenant_id|tenant_slug|slug)$/;

/**
 * The project's naming conventions (docs/observability.md): every name starts with
 * `polystore_`, has HELP and TYPE; counters end in `_total` and nothing else does; no name is in
 * milliseconds; histograms are durations in seconds; no tenant label unless `tenantLabels`;
 * none of the `retired` names (the migration table) is exported.
 */
export function conventionProblems(
  families: Map<string, Family>,
  options: { tenantLabels?: boolean; retired?: readonly string[] } = {},
): string[] {
  const problems: string[] = [];
  const retired = new Set(options.retired ?? []);
  for (const family of families.values()) {
    const { name, type } = family;
    if (!name.startsWith('polystore_')) problems.push(`${name}: does not start with polystore_`);
    if (!type) problems.push(`${name}: no TYPE`);
    if (!family.help) problems.push(`${name}: no HELP`);
    if (type === 'counter' && !name.endsWith('_total')) problems.push(`${name}: a counter not ending in _total`);
    if (type !== 'counter' && name.endsWith('_total')) problems.push(`${name}: a ${type} ending in _total`);
    if (/_(ms|msec|millis|milliseconds)(_|$)/.test(name)) problems.push(`${name}: milliseconds (use seconds)`);
    if (type === 'histogram' && !name.endsWith('_seconds')) problems.push(`${name}: a histogram not in seconds`);
    if (retired.has(name)) problems.push(`${name}: a retired name (see the migration table)`);
    if (!options.tenantLabels) {
      const labels = new Set(family.samples.flatMap((s) => Object.keys(s.labels)));
      for (const label of labels) if (TENANT_LABELS.test(label)) problems.push(`${name}: per-tenant label "${label}"`);
    }
  }
  return problems;
}

/** `promtool` when installed (Debian's `prometheus` package), else null. */
export function promtoolPath(): string | null {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const path = `${dir}/promtool`;
    if (dir && existsSync(path)) return path;
  }
  return null;
}

/** `promtool check metrics` on a scrape: its exit status and what it printed (empty when clean). */
export function promtoolCheckMetrics(promtool: string, text: string): { status: number | null; output: string } {
  const result = spawnSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 30_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}`.trim() };
}

/**
 * The old names of the migration table in docs/observability.md (a row whose first cell is a
 * bare name, in backquotes: that name must never come back; a row about labels names a metric
 * with its labels and is not listed).
 */
export function retiredMetricNames(docsFile: URL): string[] {
  const text = readFileSync(docsFile, 'utf8');
  const section = text.slice(text.indexOf('## Renamed metrics'));
  return [...section.matchAll(/^\| `(polystore_[a-z0-9_]+)` +\|/gm)].map((m) => m[1]!);
}

/**
 * The sum of the samples named `name` (a histogram's `_count`, `_sum`, `_bucket` included) whose
 * labels include `labels`; undefined when there is none.
 */
export function sampleSum(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const samples = [...families.values()]
    .flatMap((family) => family.samples)
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return samples.length === 0 ? undefined : samples.reduce((sum, s) => sum + s.value, 0);
}
