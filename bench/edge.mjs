#!/usr/bin/env node
// Sustained telemetry ingest, end to end: devices publish to the device broker (the project's
// nats-server: MQTT listener, QoS 1, and the TELEMETRY JetStream stream), the edge store's durable
// pull consumer commits the readings to PostgreSQL and acknowledges them; HTTP devices POST
// /ingest to the edge store, which publishes into the same stream (202 once the stream has them).
//
// Starts a private device broker (bench/lib/device-broker.mjs: nats-server configured by
// `brokerServerConfig`, fresh key, free ports), the edge store (DEVICE_RATE_LIMIT_PER_S=0) and a
// gateway (STORES=edge, to provision tenants), creates BENCH_EDGE_TENANTS tenants (default 10)
// and BENCH_EDGE_DEVICES devices (default 200, credentials from edge.devices.provision), split
// over BENCH_EDGE_PUBLISHERS publishing processes (default 4, bench/lib/publisher.mjs). Then, per
// scenario, BENCH_WARMUP_S of warm-up and BENCH_EDGE_DURATION_S measured (default 60), every
// device paced (one message or request at a fixed interval):
//   mqtt-10 / http-10:  BENCH_EDGE_RATE readings/s in all (default 20,000, the target),
//                       BENCH_EDGE_BATCH readings per message / request (default 10);
//   mqtt-1 / http-1:    the same rate, one reading per message / request;
//   mqtt-10-above / http-10-above: 1.5x the rate: the capacity when the store cannot keep up;
// then the soak: MQTT at BENCH_EDGE_SOAK_RATE (default the rate) for BENCH_EDGE_SOAK_S (default
// 600; 0 skips it), sampling the RSS of the edge store and nats-server.
// Reports readings/s committed (the edge store's polystore_ingest_readings_total{path="stream"},
// over the window plus the drain of what was acknowledged), publish-to-stored latency (the edge
// store's polystore_ingest_publish_to_stored_seconds histogram over the window: the stream's
// receipt to the commit, bucket upper bounds; and from the rows: each reading's `ts` is its send
// time, `received_at` the consumer's), the devices' acknowledgement latency, CPU per process,
// RSS, redeliveries, dead letters and the consumer's state, and checks per device that every
// acknowledged reading is stored exactly once. Results: <stamp>-edge-ingest.{json,md} and
// latest-edge-ingest.md in bench/results (BENCH_RESULTS_DIR). At the end the tenants are
// deleted through the admin API; whatever the run's catalog (polystore_bench_edge_system) still
// lists is dropped directly, then the catalog (also at the start, after a run that could not
// clean up).
import { fork } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connectNats, Contracts, MessageClient } from '#polystore/messaging';
import { runAsTenant } from '#polystore/tenancy';
import { mapLimit } from './lib/concurrency.mjs';
import { APPS_ROOT, ROOT, envInt as int } from './lib/config.mjs';
import { cpuSnapshot } from './lib/cpu.mjs';
import { startDeviceBroker } from './lib/device-broker.mjs';
import { expectStatus, request } from './lib/http.mjs';
import { dropBenchLeftovers, dropRunLeftovers, leftoversMessage } from './lib/leftovers.mjs';
import { machineInfo } from './lib/machine.mjs';
import { metricSum, scrape } from './lib/metrics.mjs';
import { databaseUrl } from './lib/pg.mjs';
import { startApp, stopAll } from './lib/processes.mjs';
import { fileStamp } from './lib/report.mjs';
import { placementOf, placementTable, queryRowsEachPlacement } from './lib/tenant-data.mjs';
import { listPlacements } from './lib/tenants.mjs';
import { contextEnv, contextSigner } from './lib/context-key.mjs';

const log = (message) => console.log(message);

const SCENARIO_IDS = ['mqtt-10', 'http-10', 'mqtt-1', 'http-1', 'mqtt-10-above', 'http-10-above'];
/** RSS floor slope (MB/min over the soak) under which the memory counts as flat. */
const FLAT_MB_PER_MIN = 1;

const rate = int('BENCH_EDGE_RATE', 20_000);
const settings = {
  runId: randomBytes(3)
    .toString('hex')
    .replace(/^[0-9]/, 'e'),
  tenants: int('BENCH_EDGE_TENANTS', 10),
  devices: int('BENCH_EDGE_DEVICES', 200),
  publishers: int('BENCH_EDGE_PUBLISHERS', 4),
  durationS: int('BENCH_EDGE_DURATION_S', 60),
  warmupS: int('BENCH_WARMUP_S', 3),
  batch: int('BENCH_EDGE_BATCH', 10),
  window: int('BENCH_EDGE_WINDOW', 5),
  /** Offered rate of the scenarios, readings per second across all devices (the issue's target). */
  rate,
  soakS: int('BENCH_EDGE_SOAK_S', 600, 0),
  soakRate: int('BENCH_EDGE_SOAK_RATE', rate),
  scenarios: (process.env.BENCH_EDGE_SCENARIOS ?? SCENARIO_IDS.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
  targetReadingsPerS: 20_000,
  targetP99Ms: 1_000,
  pgServerUrl: process.env.BENCH_PG_URL ?? 'postgres://root@127.0.0.1:5432',
  /** Not used by the edge store; for dropping leftovers only (a tenant's placements are all listed). */
  mariadbUrl: process.env.BENCH_MARIADB_URL ?? 'mysql://root@127.0.0.1:3306',
  natsUrl: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
  catalogDatabase: 'polystore_bench_edge_system',
  baseDomain: 'bench.test',
  adminToken: `bench-admin-${randomBytes(18).toString('base64url')}`,
  masterKey: randomBytes(32).toString('base64'),
};
for (const id of settings.scenarios)
  if (!SCENARIO_IDS.includes(id)) throw new Error(`BENCH_EDGE_SCENARIOS: unknown scenario ${id} (${SCENARIO_IDS})`);
const prefix = `benche${settings.runId}`;
const resultsDir = process.env.BENCH_RESULTS_DIR ?? join(ROOT, 'bench/results');

// ---------------------------------------------------------------------------------------------
// Process accounting

/** CPU seconds (user + system) of a process so far, from /proc. */
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

const sumCpu = (pids) => pids.reduce((n, pid) => n + cpuSeconds(pid), 0);

/**
 * CPU seconds of the PostgreSQL server so far: every live `postgres` process plus what the
 * postmaster reaped from exited backends (lib/cpu.mjs).
 */
const postgresCpuSeconds = () => (cpuSnapshot({}).postgres ?? 0) / 100;

function rssMb(pid) {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('VmRSS:'));
    return Number(line.replace(/\D+/g, '')) / 1024;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Statistics

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Cumulative bucket counts of a Prometheus histogram, by upper bound. */
function histogramBuckets(text, name) {
  return (text ?? '')
    .split('\n')
    .filter((l) => l.startsWith(`${name}_bucket{`))
    .map((l) => ({
      le: Number(/le="([^"]+)"/.exec(l)[1].replace('+Inf', 'Infinity')),
      count: Number(l.slice(l.lastIndexOf(' ') + 1)),
    }))
    .sort((a, b) => a.le - b.le);
}

/** Quantile (seconds) of what a histogram recorded between two scrapes: the upper bound of its bucket. */
function histogramQuantile(before, after, name, q) {
  const old = new Map(histogramBuckets(before, name).map((b) => [b.le, b.count]));
  const rows = histogramBuckets(after, name).map((b) => ({ le: b.le, count: b.count - (old.get(b.le) ?? 0) }));
  const total = rows.at(-1)?.count ?? 0;
  if (!total) return null;
  return rows.find((r) => r.count >= q * total)?.le ?? null;
}

/**
 * Least-squares slope, per minute, of the lowest value in each of `parts` equal slices of
 * `points`: the floor the garbage collector returns to, so a sawtooth of allocations does not
 * read as growth and a leak does.
 */
function floorSlopePerMinute(points, parts = 10) {
  const valid = points.filter((p) => p.y !== null);
  if (valid.length < parts * 2) return slopePerMinute(valid);
  const size = valid.length / parts;
  const floors = Array.from({ length: parts }, (_, i) => {
    const slice = valid.slice(Math.round(i * size), Math.round((i + 1) * size));
    return slice.reduce((low, p) => (p.y < low.y ? p : low), slice[0]);
  });
  return slopePerMinute(floors);
}

/** Least-squares slope of `points` ([{ t: seconds, y }]), per minute. */
function slopePerMinute(points) {
  const valid = points.filter((p) => p.y !== null);
  if (valid.length < 3) return null;
  const n = valid.length;
  const mt = valid.reduce((a, p) => a + p.t, 0) / n;
  const my = valid.reduce((a, p) => a + p.y, 0) / n;
  const num = valid.reduce((a, p) => a + (p.t - mt) * (p.y - my), 0);
  const den = valid.reduce((a, p) => a + (p.t - mt) ** 2, 0);
  return den === 0 ? null : (num / den) * 60;
}

// ---------------------------------------------------------------------------------------------
// The publishing processes

/** Forks `count` publishers, each with a share of `devices` (round robin), connected over MQTT. */
async function startPublishers(count, devices, mqttUrl, edgePort) {
  const shares = Array.from({ length: Math.min(count, devices.length) }, () => []);
  devices.forEach((d, i) => shares[i % shares.length].push(d));
  const publishers = shares.map((share) => {
    const child = fork(join(ROOT, 'bench/lib/publisher.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const waiting = [];
    child.on('message', (message) => {
      if (message.type === 'error') {
        const next = waiting.shift();
        next?.reject(new Error(`publisher ${child.pid}: ${message.message}`));
      } else waiting.shift()?.resolve(message);
    });
    child.on('exit', (code) => {
      for (const w of waiting.splice(0)) w.reject(new Error(`publisher ${child.pid} exited (${code})`));
    });
    const ask = (message) =>
      new Promise((resolve, reject) => {
        waiting.push({ resolve, reject });
        child.send(message);
      });
    return { child, pid: child.pid, devices: share.length, ask };
  });
  await Promise.all(
    publishers.map((p, i) =>
      p.ask({
        type: 'init',
        mqttUrl,
        edgePort,
        devices: shares[i].map((d) => ({ deviceId: d.deviceId, token: d.token, topic: d.topic })),
      }),
    ),
  );
  return {
    pids: publishers.map((p) => p.pid),
    /** One run on every publisher at once, `rate` split by their device counts; the totals merged. */
    async run({ kind, seconds, rate: total, batch, paced = true }) {
      const results = await Promise.all(
        publishers.map((p) =>
          p.ask({
            type: 'run',
            kind,
            seconds,
            rate: (total * p.devices) / devices.length,
            batch,
            window: settings.window,
            paced,
          }),
        ),
      );
      const merged = { sent: 0, acknowledged: 0, failed: 0, statuses: {}, errors: {}, latencies: [] };
      for (const r of results) {
        merged.sent += r.sent;
        merged.acknowledged += r.acknowledged;
        merged.failed += r.failed;
        for (const [k, v] of Object.entries(r.statuses)) merged.statuses[k] = (merged.statuses[k] ?? 0) + v;
        for (const [k, v] of Object.entries(r.errors)) merged.errors[k] = (merged.errors[k] ?? 0) + v;
        // A 10-minute soak gathers millions of samples: spreading them into push() overflows the stack.
        for (const latency of r.latencies) merged.latencies.push(latency);
      }
      merged.latencies.sort((a, b) => a - b);
      return merged;
    },
    /** Per device: readings sent, acknowledged, and sent but not acknowledged (failed). */
    async deviceTotals() {
      const answers = await Promise.all(publishers.map((p) => p.ask({ type: 'devices' })));
      return Object.assign({}, ...answers.map((a) => a.devices));
    },
    async close() {
      await Promise.all(
        publishers.map(
          (p) =>
            new Promise((resolve) => {
              if (p.child.exitCode !== null) return resolve();
              p.child.once('exit', resolve);
              p.child.send({ type: 'close' });
              setTimeout(() => p.child.kill('SIGKILL'), 10_000).unref();
            }),
        ),
      );
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Reading the store

/**
 * Send-to-row latency of the readings whose send time (`ts`) is in [from, to): `received_at -
 * ts` per row, counted per millisecond in each placement and merged; p50, p99, max in ms.
 */
async function rowLatency(placements, from, to) {
  const perPlacement = await queryRowsEachPlacement(settings, placements, (p) => ({
    sql: `SELECT round(extract(epoch FROM received_at - ts) * 1000)::bigint AS ms, count(*)::bigint AS n
            FROM ${placementTable(p, 'readings')} WHERE ts >= $1 AND ts < $2 GROUP BY 1`,
    params: [from, to],
  }));
  const counts = new Map();
  for (const rows of perPlacement)
    for (const r of rows) counts.set(Number(r.ms), (counts.get(Number(r.ms)) ?? 0) + Number(r.n));
  const sorted = [...counts.entries()].sort((a, b) => a[0] - b[0]);
  const total = sorted.reduce((a, [, n]) => a + n, 0);
  if (!total) return { rows: 0, p50Ms: null, p99Ms: null, maxMs: null };
  const at = (q) => {
    let seen = 0;
    for (const [ms, n] of sorted) {
      seen += n;
      if (seen >= q * total) return ms;
    }
    return sorted.at(-1)[0];
  };
  return { rows: total, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: sorted.at(-1)[0] };
}

/** Per device: rows stored, lowest and highest sequence number. */
async function storedPerDevice(placements) {
  const perPlacement = await queryRowsEachPlacement(settings, placements, (p) => ({
    sql: `SELECT device_id::text AS device, count(*)::bigint AS n, min(seq)::bigint AS lo, max(seq)::bigint AS hi
            FROM ${placementTable(p, 'readings')} GROUP BY device_id`,
  }));
  const byDevice = new Map();
  for (const rows of perPlacement)
    for (const r of rows) byDevice.set(r.device, { rows: Number(r.n), lo: Number(r.lo), hi: Number(r.hi) });
  return byDevice;
}

/**
 * Every acknowledged reading stored exactly once: per device, rows = acknowledged (the rows'
 * primary key, device + sequence number, makes a duplicate row impossible; a redelivered message
 * is absorbed by `ON CONFLICT DO NOTHING`), and the stored sequence numbers are 1..n without a
 * gap. Rows beyond the acknowledged ones are allowed only for readings sent but never
 * acknowledged (a lost PUBACK or HTTP answer).
 */
function exactlyOnce(totals, stored) {
  const result = {
    devices: 0,
    acknowledged: 0,
    sentNotAcknowledged: 0,
    stored: 0,
    devicesMissingAcknowledged: 0,
    readingsMissing: 0,
    devicesWithUnexplainedRows: 0,
    devicesWithGaps: 0,
    examples: [],
  };
  for (const [deviceId, t] of Object.entries(totals)) {
    const s = stored.get(deviceId) ?? { rows: 0, lo: null, hi: null };
    result.devices++;
    result.acknowledged += t.acknowledged;
    result.sentNotAcknowledged += t.failed;
    result.stored += s.rows;
    const problems = [];
    if (s.rows < t.acknowledged) {
      result.devicesMissingAcknowledged++;
      result.readingsMissing += t.acknowledged - s.rows;
      problems.push(`${t.acknowledged - s.rows} acknowledged reading(s) missing`);
    }
    if (s.rows > t.acknowledged + t.failed) {
      result.devicesWithUnexplainedRows++;
      problems.push(`${s.rows - t.acknowledged - t.failed} row(s) more than sent`);
    }
    if (s.rows > 0 && (s.lo !== 1 || s.hi - s.lo + 1 !== s.rows) && t.failed === 0) {
      result.devicesWithGaps++;
      problems.push(`sequence numbers ${s.lo}..${s.hi} for ${s.rows} rows`);
    }
    if (problems.length && result.examples.length < 5) result.examples.push({ deviceId, ...t, ...s, problems });
  }
  result.ok =
    result.devicesMissingAcknowledged === 0 && result.devicesWithUnexplainedRows === 0 && result.devicesWithGaps === 0;
  return result;
}

/** Warnings and errors the edge store logged, by message (pino JSON lines: level >= 40). */
function logProblems(logPath) {
  const counts = {};
  let text;
  try {
    text = readFileSync(logPath, 'utf8');
  } catch {
    return counts;
  }
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const record = JSON.parse(line);
      if (record.level >= 40) {
        const key = `${record.level >= 50 ? 'error' : 'warn'}: ${record.msg}${record.message ? ` (${String(record.message).slice(0, 120)})` : ''}`;
        counts[key] = (counts[key] ?? 0) + 1;
      }
    } catch {
      // not a JSON line
    }
  }
  return counts;
}

// ---------------------------------------------------------------------------------------------
// Report

function renderMarkdown(run) {
  const f = (n, d = 0) =>
    n === null || n === undefined || Number.isNaN(n)
      ? '–'
      : Number(n).toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const ms = (seconds) => (seconds === null || seconds === undefined ? '–' : `≤ ${f(seconds * 1000)}`);
  const s = run.settings;
  const rows = run.scenarios.map(
    (x) =>
      `| ${x.label} | ${x.batch} | ${f(x.offeredPerSecond)} | ${f(x.readingsPerSecond)} | ${f(x.drainSeconds, 1)} | ${ms(x.storedP50S)} | ${ms(x.storedP99S)} | ${f(x.rowLatency.p50Ms)} | ${f(x.rowLatency.p99Ms)} | ${f(x.deviceAckP50Ms, 1)} | ${f(x.deviceAckP99Ms, 1)} | ${f(x.readingsNotAcknowledged)} | ${f(x.redeliveries)} | ${f(x.deadLetters)} |`,
  );
  const cpuRows = run.scenarios.map(
    (x) =>
      `| ${x.label} | ${f(x.cpuPercent.edge)} | ${f(x.cpuPercent.broker)} | ${f(x.cpuPercent.postgres)} | ${f(x.cpuPercent.publishers)} | ${f(x.cpuPercent.bench)} | ${f(x.rss.edgePeakMb)} | ${f(x.rss.brokerPeakMb)} |`,
  );
  const atTarget = run.scenarios.filter((x) => x.offeredPerSecond === s.rate);
  const bestOf = (kind) =>
    run.scenarios
      .filter((x) => x.kind === kind)
      .reduce((a, x) => (x.readingsPerSecond > (a?.readingsPerSecond ?? -1) ? x : a), null);
  // Met when a scenario stored the target rate; a paced scenario at exactly the target rate
  // stores a little less than offered over a short window (devices start at random offsets).
  const verdict = (x) =>
    x
      ? `${x.readingsPerSecond >= s.targetReadingsPerS ? 'met' : 'NOT met'} (${x.label}: ${f(x.readingsPerSecond)}/s${x.readingsPerSecond < s.targetReadingsPerS && x.offeredPerSecond <= s.targetReadingsPerS ? ', offered no more than the target' : ''})`
      : '–';
  const soak = run.soak;
  const flat = (slope) => slope !== null && Math.abs(slope) < FLAT_MB_PER_MIN;
  const soakText = soak
    ? `## Soak: MQTT at ${f(soak.offeredPerSecond)} readings/s for ${f(soak.seconds)} s

| process | RSS start MB | RSS peak MB | RSS end MB | slope MB/min | slope of the floor MB/min |
|---|---:|---:|---:|---:|---:|
| edge store | ${f(soak.rss.edge.startMb)} | ${f(soak.rss.edge.peakMb)} | ${f(soak.rss.edge.endMb)} | ${f(soak.rss.edge.slopeMbPerMin, 2)} | ${f(soak.rss.edge.floorSlopeMbPerMin, 2)} |
| nats-server | ${f(soak.rss.broker.startMb)} | ${f(soak.rss.broker.peakMb)} | ${f(soak.rss.broker.endMb)} | ${f(soak.rss.broker.slopeMbPerMin, 2)} | ${f(soak.rss.broker.floorSlopeMbPerMin, 2)} |

Committed ${f(soak.readingsPerSecond)} readings/s over the soak (drain ${f(soak.drainSeconds, 1)} s), publish-to-stored p50 ${ms(soak.storedP50S)} ms, p99 ${ms(soak.storedP99S)} ms (histogram); send-to-row p50 ${f(soak.rowLatency.p50Ms)} ms, p99 ${f(soak.rowLatency.p99Ms)} ms; redeliveries ${f(soak.redeliveries)}, dead letters ${f(soak.deadLetters)}; largest consumer backlog seen ${f(soak.maxPending)} message(s). RSS sampled every ${soak.sampleEveryS} s (series in the JSON); *slope*: least squares over every sample; *slope of the floor*: over the lowest sample of each tenth of the soak (what the garbage collector comes back to; a sawtooth of allocations is not growth, a leak raises the floor). Target: flat (floor slope under ${FLAT_MB_PER_MIN} MB/min): edge store ${flat(soak.rss.edge.floorSlopeMbPerMin) ? 'met' : 'NOT met'}, nats-server ${flat(soak.rss.broker.floorSlopeMbPerMin) ? 'met' : 'NOT met'}${soak.seconds < 300 ? ' (a soak this short says little: run BENCH_EDGE_SOAK_S=600)' : ''}.
`
    : '_Soak skipped (BENCH_EDGE_SOAK_S=0)._\n';
  const eo = run.exactlyOnce;
  const problems = Object.entries(run.edgeLogProblems)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 10)
    .map(([k, v]) => `- ${v} × ${k}`);
  return `# Telemetry ingest end to end: device broker (nats-server, MQTT + JetStream) → edge store → PostgreSQL

Run ${run.startedAt} on ${run.machine.cpus}, ${run.machine.memory}, Node ${run.machine.node}; nats-server, edge store, PostgreSQL and the ${s.publishers} publishing processes on the same machine${run.machine.appsRoot === '.' ? '' : ` (apps from ${run.machine.appsRoot})`}.
${s.devices} simulated devices across ${s.tenants} tenants; ${s.durationS} s measured per scenario after ${s.warmupS} s of warm-up; every device paced (one message or request per interval, the intervals together giving the offered rate). MQTT: QoS 1, at most ${s.window} unacknowledged messages per device. HTTP: one request at a time per device, keep-alive. DEVICE_RATE_LIMIT_PER_S=0.

**Targets**: ≥ ${f(s.targetReadingsPerS)} readings/s stored, over MQTT ${verdict(bestOf('mqtt'))}, over HTTP ${verdict(bestOf('http'))}; publish-to-stored p99 < ${f(s.targetP99Ms)} ms: ${atTarget.length ? atTarget.map((x) => `${x.label} ${x.storedP99S !== null && x.storedP99S * 1000 <= s.targetP99Ms ? 'met' : 'NOT met'}`).join(', ') : '–'}; RSS flat over the soak: ${soak ? (flat(soak.rss.edge.floorSlopeMbPerMin) && flat(soak.rss.broker.floorSlopeMbPerMin) ? 'met' : 'NOT met') : '–'}; exactly once: ${eo.ok ? 'met' : 'NOT met'}.

| scenario | readings per message | offered readings/s | stored readings/s | drain after window s | publish→stored p50 ms | publish→stored p99 ms | send→row p50 ms | send→row p99 ms | device ack p50 ms | device ack p99 ms | readings not acknowledged | redeliveries | dead letters |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
${rows.join('\n')}

*Stored readings/s*: readings committed (the edge store's \`polystore_ingest_readings_total{path="stream"}\`) over the window plus the time after it until everything acknowledged in the window was committed (*drain*): below capacity the drain is ~0 and this is the offered rate; above it the backlog waits in the stream and this is the store's capacity. *publish→stored*: the edge store's \`polystore_ingest_publish_to_stored_seconds\` over the window (from the stream's receipt of a message to its commit; bucket upper bounds). *send→row*: from the rows of the window, \`received_at\` (set by the consumer when it takes the message, before the commit) minus \`ts\` (the publisher's send time, ms). *Device ack*: what a device waits for: MQTT PUBACK from nats-server, HTTP 202 (the stream has the readings; the commit comes after). *Not acknowledged*: sent but refused or unanswered (HTTP 429/503, a closed connection).

| scenario | edge store CPU % | nats-server CPU % | PostgreSQL CPU % | publishers CPU % | bench CPU % | edge store RSS peak MB | nats-server RSS peak MB |
|---|---:|---:|---:|---:|---:|---:|---:|
${cpuRows.join('\n')}

CPU % is of one core (${run.machine.cpuCount * 100}% = every core of this machine); PostgreSQL is the whole server (live backends and those that exited during the window).

${soakText}
## Exactly once

Per device (${f(eo.devices)} devices): readings acknowledged ${f(eo.acknowledged)}, sent but not acknowledged ${f(eo.sentNotAcknowledged)}, rows stored ${f(eo.stored)}. Devices missing acknowledged readings: ${f(eo.devicesMissingAcknowledged)} (${f(eo.readingsMissing)} readings); with more rows than sent: ${f(eo.devicesWithUnexplainedRows)}; with a gap in their sequence numbers: ${f(eo.devicesWithGaps)}: ${eo.ok ? 'every acknowledged reading stored exactly once' : `MISMATCH, e.g. ${JSON.stringify(eo.examples.slice(0, 2))}`}. Readings the edge store counted as committed: ${f(run.committedTotal)} (${run.committedTotal > eo.stored ? `${f(run.committedTotal - eo.stored)} more than rows: redelivered messages absorbed by the primary key` : 'equal to the rows'}).

Broker at the end: TELEMETRY holds ${f(run.streamsAtEnd?.TELEMETRY?.messages)} messages (${f((run.streamsAtEnd?.TELEMETRY?.bytes ?? 0) / 2 ** 20)} MiB: a work-queue stream: what it holds is the backlog not yet stored), consumer \`edge-store\` ${JSON.stringify(run.streamsAtEnd?.TELEMETRY?.consumers?.['edge-store'] ?? null)}; DEAD_LETTERS ${f(run.streamsAtEnd?.DEAD_LETTERS?.messages)} messages.
${problems.length ? `\nWarnings and errors in the edge store's log:\n${problems.join('\n')}\n` : '\nThe edge store logged no warning or error.\n'}`;
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'polystore-bench-edge-'));
  const slugs = Array.from(
    { length: settings.tenants },
    (_, i) => `benche-${settings.runId}-${String(i + 1).padStart(3, '0')}`,
  );
  const created = [];
  /** Every placement GET /admin/tenants listed for this run's tenants: checked and dropped at the end. */
  const seen = [];
  let gateway;
  let edge;
  let broker;
  let nc;
  let publishers;
  let failed = false;
  try {
    log(
      `edge-ingest: run ${settings.runId}, ${settings.devices} devices, ${settings.tenants} tenants, ${settings.publishers} publishers, ${settings.durationS} s per scenario, soak ${settings.soakS} s`,
    );
    const earlier = await dropBenchLeftovers(settings);
    if (earlier)
      log(
        `dropped what an earlier run left: its catalog (${earlier.listed} placement(s) listed), ${earlier.schemas} schema(s), ${earlier.databases} database(s)`,
      );
    broker = await startDeviceBroker(dir);
    const env = {
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      SYSTEM_DB_URL: databaseUrl(settings.pgServerUrl, settings.catalogDatabase),
      EDGE_SERVER_URL: settings.pgServerUrl,
      NATS_URL: settings.natsUrl,
      NATS_SUBJECT_PREFIX: prefix,
      MASTER_KEY: settings.masterKey,
      ...contextEnv,
    };
    edge = await startApp({
      name: 'edge-store',
      script: 'dist/apps/edge-store/src/main.js',
      logDir: dir,
      env: {
        ...env,
        EDGE_HTTP_PORT: '0',
        INSTANCE_ID: `${prefix}-edge`,
        DEVICE_BROKER_URL: broker.natsUrl,
        DEVICE_BROKER_KEY: broker.key,
        DEVICE_RATE_LIMIT_PER_S: '0',
        // e.g. `--import <a script that starts node:inspector's profiler>` to see where the edge store's CPU goes.
        ...(process.env.BENCH_EDGE_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_EDGE_NODE_OPTIONS } : {}),
      },
    });
    gateway = await startApp({
      name: 'gateway',
      script: 'dist/apps/gateway/src/main.js',
      logDir: dir,
      env: {
        ...env,
        ADMIN_TOKEN: settings.adminToken,
        BASE_DOMAIN: settings.baseDomain,
        GATEWAY_PORT: '0',
        ADMIN_PORT: '0',
        STORES: 'edge',
        JOBS: '',
        TENANT_DELETION_GRACE_MS: '0',
        INSTANCE_ID: `${prefix}-gateway`,
      },
    });
    log(`creating ${settings.tenants} tenants and ${settings.devices} devices ...`);
    const outcomes = await mapLimit(slugs, 4, async (slug) => {
      await expectStatus(201, {
        port: gateway.adminPort,
        host: settings.baseDomain,
        token: settings.adminToken,
        method: 'POST',
        path: '/admin/tenants',
        body: { slug, name: slug },
      });
      created.push(slug);
    });
    const failedTenants = outcomes.filter((o) => !o.ok);
    if (failedTenants.length > 0)
      throw new Error(`${failedTenants.length} tenants could not be created; first: ${failedTenants[0].error.message}`);
    // Where each tenant's readings go: its edge placement, as the admin API lists it.
    const placementsBySlug = await listPlacements({ adminPort: gateway.adminPort, settings });
    for (const slug of created) seen.push(...(placementsBySlug.get(slug) ?? []));
    const edgePlacements = created.map((slug) => placementOf(placementsBySlug.get(slug), 'edge', slug));
    const kinds = [...new Set(edgePlacements.map((p) => p.kind))];
    log(
      `  edge placements: ${kinds.join(', ')} (e.g. ${edgePlacements[0].database}${edgePlacements[0].schema ? `, schema ${edgePlacements[0].schema}` : ''})`,
    );
    nc = await connectNats({ url: settings.natsUrl, name: 'bench-edge' });
    const client = new MessageClient(nc, { subjectPrefix: prefix, defaultTimeoutMs: 10_000, signer: contextSigner });
    const provisioned = await mapLimit(
      Array.from({ length: settings.devices }, (_, i) => slugs[i % slugs.length]),
      8,
      (slug) => runAsTenant(slug, () => client.request(Contracts.edge.devices.provision, { deviceId: randomUUID() })),
    );
    const notProvisioned = provisioned.filter((o) => !o.ok);
    if (notProvisioned.length)
      throw new Error(`${notProvisioned.length} devices not provisioned; first: ${notProvisioned[0].error.message}`);
    const devices = provisioned.map((o) => ({
      deviceId: o.value.deviceId,
      token: o.value.token,
      topic: o.value.mqtt.topic,
    }));
    log(`  ${devices.length} devices; starting ${settings.publishers} publishing processes (MQTT connections) ...`);
    publishers = await startPublishers(settings.publishers, devices, broker.mqttUrl, edge.port);

    const metrics = () => scrape(edge.port);
    const committedOf = (text) => metricSum(text, 'polystore_ingest_readings_total', ['path="stream"']) ?? 0;
    /** Readings acknowledged to devices so far (warm-ups included): what must be committed once drained. */
    let acknowledgedSoFar = 0;
    /**
     * Waits until every acknowledged reading is committed (or `timeoutS`); returns the last scrape.
     * A reading acknowledged but never committed (lost, dead-lettered) makes this time out.
     */
    const drained = async (timeoutS) => {
      const until = Date.now() + timeoutS * 1000;
      let text = await metrics();
      while (committedOf(text) < acknowledgedSoFar && Date.now() < until) {
        await sleep(100);
        text = await metrics();
      }
      return text;
    };
    const drainTimeoutS = Math.max(120, settings.durationS * 5);
    const fmtS = (s) => (s === null ? '–' : String(Math.round(s * 1000)));
    const pids = () => ({
      edge: [edge.pid],
      broker: [broker.pid],
      publishers: publishers.pids,
      bench: [process.pid],
    });

    /**
     * One measured window of `seconds` (after the warm-up, and the drain of its backlog), then the
     * drain of the window's own backlog. `sampleEveryS`: RSS series for the soak.
     */
    const measure = async ({ id, label, kind, batch, offered, seconds, warmupS, sampleEveryS = 0.25 }) => {
      log(`▶ ${id}: ${label}: warm-up ${warmupS} s, then ${seconds} s`);
      if (warmupS > 0) {
        const warm = await publishers.run({ kind, seconds: warmupS, rate: offered, batch });
        acknowledgedSoFar += warm.acknowledged;
        await drained(drainTimeoutS);
      }
      const before = await metrics();
      const committedBefore = committedOf(before);
      const ids = pids();
      const cpuBefore = Object.fromEntries(Object.entries(ids).map(([k, v]) => [k, sumCpu(v)]));
      const postgresBefore = postgresCpuSeconds();
      const series = [];
      let maxPending = 0;
      const started = Date.now();
      const sample = () => {
        series.push({ t: (Date.now() - started) / 1000, edgeMb: rssMb(edge.pid), brokerMb: rssMb(broker.pid) });
      };
      sample();
      const timer = setInterval(sample, sampleEveryS * 1000);
      const pendingTimer = setInterval(() => {
        broker
          .streams()
          .then((s) => {
            const c = s.TELEMETRY?.consumers?.['edge-store'];
            if (c) maxPending = Math.max(maxPending, c.pending + c.ackPending);
          })
          .catch(() => undefined);
      }, 2_000);
      const windowFrom = new Date(started);
      const result = await publishers.run({ kind, seconds, rate: offered, batch });
      const windowEnded = Date.now();
      acknowledgedSoFar += result.acknowledged;
      const after = await drained(drainTimeoutS);
      const elapsed = (Date.now() - started) / 1000;
      clearInterval(timer);
      clearInterval(pendingTimer);
      sample();
      const cpuPercent = Object.fromEntries(
        Object.entries(ids).map(([k, v]) => [k, ((sumCpu(v) - cpuBefore[k]) / elapsed) * 100]),
      );
      cpuPercent.postgres = ((postgresCpuSeconds() - postgresBefore) / elapsed) * 100;
      const committed = committedOf(after) - committedBefore;
      const delta = (name) => (metricSum(after, name) ?? 0) - (metricSum(before, name) ?? 0);
      const streams = await broker.streams().catch(() => null);
      const rowLatencyResult = await rowLatency(edgePlacements, windowFrom, new Date(windowEnded));
      const peak = (key) => Math.max(...series.map((p) => p[key] ?? 0));
      const scenario = {
        id,
        label,
        kind,
        batch,
        seconds,
        offeredPerSecond: offered,
        readingsSent: result.sent,
        readingsAcknowledged: result.acknowledged,
        readingsNotAcknowledged: result.failed,
        httpStatuses: result.statuses,
        publishErrors: result.errors,
        readingsCommitted: committed,
        secondsWithDrain: elapsed,
        drainSeconds: (Date.now() - windowEnded) / 1000,
        drainComplete: committedOf(after) >= acknowledgedSoFar,
        readingsPerSecond: committed / elapsed,
        storedP50S: histogramQuantile(before, after, 'polystore_ingest_publish_to_stored_seconds', 0.5),
        storedP99S: histogramQuantile(before, after, 'polystore_ingest_publish_to_stored_seconds', 0.99),
        rowLatency: rowLatencyResult,
        deviceAckP50Ms: percentile(result.latencies, 50),
        deviceAckP99Ms: percentile(result.latencies, 99),
        redeliveries: delta('polystore_ingest_redeliveries_total'),
        deadLetters: delta('polystore_ingest_dead_letters_total'),
        rejected: delta('polystore_ingest_rejected_total'),
        maxPending,
        streamsAfter: streams,
        cpuPercent,
        rss: {
          edgeStartMb: series[0].edgeMb,
          edgePeakMb: peak('edgeMb'),
          edgeEndMb: series.at(-1).edgeMb,
          brokerStartMb: series[0].brokerMb,
          brokerPeakMb: peak('brokerMb'),
          brokerEndMb: series.at(-1).brokerMb,
        },
        series: sampleEveryS >= 1 ? series : undefined,
      };
      log(
        `  offered ${Math.round(offered)}/s, stored ${Math.round(scenario.readingsPerSecond)}/s (drain ${scenario.drainSeconds.toFixed(1)} s${scenario.drainComplete ? '' : ', INCOMPLETE'}), publish→stored p50 ≤${fmtS(scenario.storedP50S)} p99 ≤${fmtS(scenario.storedP99S)} ms, send→row p50 ${rowLatencyResult.p50Ms} p99 ${rowLatencyResult.p99Ms} ms, not acked ${result.failed}, redeliveries ${scenario.redeliveries}, dead letters ${scenario.deadLetters}, max backlog ${maxPending}, edge CPU ${Math.round(cpuPercent.edge)}% nats ${Math.round(cpuPercent.broker)}% pg ${Math.round(cpuPercent.postgres)}% publishers ${Math.round(cpuPercent.publishers)}%, RSS edge ${Math.round(scenario.rss.edgePeakMb)} nats ${Math.round(scenario.rss.brokerPeakMb)} MB`,
      );
      if (Object.keys(result.errors).length) log(`  publish errors: ${JSON.stringify(result.errors)}`);
      return scenario;
    };
    const fmtRate = (n) => n.toLocaleString('en-US');
    const above = Math.round(settings.rate * 1.5);
    const plan = {
      'mqtt-10': { kind: 'mqtt', batch: settings.batch, offered: settings.rate },
      'http-10': { kind: 'http', batch: settings.batch, offered: settings.rate },
      'mqtt-1': { kind: 'mqtt', batch: 1, offered: settings.rate },
      'http-1': { kind: 'http', batch: 1, offered: settings.rate },
      'mqtt-10-above': { kind: 'mqtt', batch: settings.batch, offered: above },
      'http-10-above': { kind: 'http', batch: settings.batch, offered: above },
    };
    const scenarios = [];
    for (const id of SCENARIO_IDS.filter((s) => settings.scenarios.includes(s))) {
      const p = plan[id];
      scenarios.push(
        await measure({
          id,
          ...p,
          label: `${p.kind.toUpperCase()}, ${p.batch} per ${p.kind === 'mqtt' ? 'message' : 'request'}, ${fmtRate(p.offered)}/s`,
          seconds: settings.durationS,
          warmupS: settings.warmupS,
        }),
      );
    }
    let soak = null;
    if (settings.soakS > 0) {
      const sampleEveryS = settings.soakS >= 120 ? 5 : 1;
      const s = await measure({
        id: 'soak',
        label: `MQTT soak, ${settings.batch} per message, ${fmtRate(settings.soakRate)}/s`,
        kind: 'mqtt',
        batch: settings.batch,
        offered: settings.soakRate,
        seconds: settings.soakS,
        warmupS: 0,
        sampleEveryS,
      });
      const rss = (key) => {
        const points = s.series.map((p) => ({ t: p.t, y: p[key] }));
        return {
          startMb: s.series[0][key],
          peakMb: Math.max(...s.series.map((p) => p[key] ?? 0)),
          endMb: s.series.at(-1)[key],
          slopeMbPerMin: slopePerMinute(points),
          floorSlopeMbPerMin: floorSlopePerMinute(points),
        };
      };
      soak = { ...s, sampleEveryS, rss: { edge: rss('edgeMb'), broker: rss('brokerMb') } };
      log(
        `  soak RSS edge ${Math.round(soak.rss.edge.startMb)} → peak ${Math.round(soak.rss.edge.peakMb)} → ${Math.round(soak.rss.edge.endMb)} MB (slope ${soak.rss.edge.slopeMbPerMin?.toFixed(2)} MB/min, of the floor ${soak.rss.edge.floorSlopeMbPerMin?.toFixed(2)}), nats ${Math.round(soak.rss.broker.startMb)} → peak ${Math.round(soak.rss.broker.peakMb)} → ${Math.round(soak.rss.broker.endMb)} MB (slope ${soak.rss.broker.slopeMbPerMin?.toFixed(2)}, of the floor ${soak.rss.broker.floorSlopeMbPerMin?.toFixed(2)})`,
      );
    }

    log('checking every acknowledged reading is stored exactly once ...');
    const finalMetrics = await drained(drainTimeoutS);
    const check = exactlyOnce(await publishers.deviceTotals(), await storedPerDevice(edgePlacements));
    log(
      `  acknowledged ${check.acknowledged}, not acknowledged ${check.sentNotAcknowledged}, stored ${check.stored}: ${check.ok ? 'exactly once' : `MISMATCH ${JSON.stringify(check.examples)}`}`,
    );
    const machine = await machineInfo(settings.pgServerUrl, APPS_ROOT);
    const run = {
      startedAt: new Date().toISOString(),
      settings: {
        tenants: settings.tenants,
        devices: settings.devices,
        publishers: settings.publishers,
        batch: settings.batch,
        window: settings.window,
        rate: settings.rate,
        durationS: settings.durationS,
        warmupS: settings.warmupS,
        soakS: settings.soakS,
        soakRate: settings.soakRate,
        scenarios: settings.scenarios,
        targetReadingsPerS: settings.targetReadingsPerS,
        targetP99Ms: settings.targetP99Ms,
        placementKinds: kinds,
        edgeStore: { DEVICE_RATE_LIMIT_PER_S: 0, other: 'defaults (INGEST_*, TELEMETRY_*)' },
      },
      machine: {
        ...machine,
        cpus: `${machine.cpuCount} × ${machine.cpuModel}`,
        memory: `${machine.totalMemoryGiB} GiB`,
        node: machine.nodeVersion,
      },
      scenarios,
      soak,
      exactlyOnce: check,
      committedTotal: committedOf(finalMetrics),
      streamsAtEnd: await broker.streams().catch(() => null),
      brokerVarzAtEnd: await broker
        .varz()
        .then((v) => ({ mem: v.mem, in_msgs: v.in_msgs, out_msgs: v.out_msgs, slow_consumers: v.slow_consumers }))
        .catch(() => null),
      edgeLogProblems: logProblems(edge.logPath),
    };
    mkdirSync(resultsDir, { recursive: true });
    const stamp = fileStamp(new Date());
    writeFileSync(join(resultsDir, `${stamp}-edge-ingest.json`), `${JSON.stringify(run, null, 2)}\n`);
    const markdown = renderMarkdown(run);
    writeFileSync(join(resultsDir, `${stamp}-edge-ingest.md`), markdown);
    writeFileSync(join(resultsDir, 'latest-edge-ingest.md'), markdown);
    log(`\n${markdown}`);
    log(`results: ${join(resultsDir, `${stamp}-edge-ingest.{json,md}`)}`);
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    await publishers?.close().catch(() => undefined);
    await nc?.drain().catch(() => undefined);
    if (gateway?.isRunning) {
      log(`deleting ${created.length} tenants ...`);
      await mapLimit(created, 4, (slug) =>
        request({
          port: gateway.adminPort,
          host: settings.baseDomain,
          token: settings.adminToken,
          method: 'DELETE',
          path: `/admin/tenants/${slug}`,
        }),
      );
    }
    await stopAll();
    await broker?.stop().catch(() => undefined);
    await dropRunLeftovers(settings, seen)
      .then((result) => log(leftoversMessage(result, seen.length)))
      .catch((error) => log(`cleanup: dropping leftovers failed: ${error.message}`));
    if (failed) log(`logs kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

await main();
