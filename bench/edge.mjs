#!/usr/bin/env node
// Sustained telemetry ingest into PostgreSQL, durable (acknowledged after commit), from many
// simulated devices, over MQTT and over HTTP.
//
// Starts a private Mosquitto (dynamic security, like scripts/mosquitto.sh), the edge store and a
// gateway (STORES=edge, to provision tenants), creates BENCH_EDGE_TENANTS tenants (default 10)
// with BENCH_EDGE_DEVICES devices in all (default 200), then for BENCH_EDGE_DURATION_S seconds
// (default 60) per scenario:
//   mqtt: every device publishes QoS 1 messages of BENCH_EDGE_BATCH readings (default 10),
//         keeping BENCH_EDGE_WINDOW messages in flight (default 5);
//   http: every device POSTs /ingest with BENCH_EDGE_BATCH readings, one request at a time.
// Reports readings/s committed, p50/p99 acknowledgement latency (MQTT: receipt to PUBACK after
// commit, from the edge store's histogram; HTTP: the device's own request latency, 202 after
// commit), edge-store RSS and CPU, PostgreSQL and Mosquitto CPU, and checks that every
// acknowledged reading is stored exactly once (the rows of `readings` in each tenant's edge
// placement, as GET /admin/tenants lists it: by default a schema `ps_edge_<tenant id hex>` in the
// shared database `polystore_edge`). Results in bench/results/*-edge-ingest.*. At the end the
// tenants are deleted through the admin API; whatever the run's catalog
// (polystore_bench_edge_system) still lists is dropped directly, then the catalog (also at the
// start, after a run that could not clean up).
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { connectNats, Contracts, MessageClient } from '#polystore/messaging';
import { runAsTenant } from '#polystore/tenancy';
import { mapLimit } from './lib/concurrency.mjs';
import { ROOT } from './lib/config.mjs';
import { cpuSnapshot } from './lib/cpu.mjs';
import { expectStatus, request } from './lib/http.mjs';
import { dropBenchLeftovers, dropRunLeftovers, leftoversMessage } from './lib/leftovers.mjs';
import { machineInfo } from './lib/machine.mjs';
import { metricSum } from './lib/metrics.mjs';
import { databaseUrl } from './lib/pg.mjs';
import { startApp, stopAll } from './lib/processes.mjs';
import { startMosquitto } from './lib/mosquitto.mjs';
import { fileStamp } from './lib/report.mjs';
import { countRows, placementOf } from './lib/tenant-data.mjs';
import { listPlacements } from './lib/tenants.mjs';

const log = (message) => console.log(message);
const int = (name, fallback) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
};

const settings = {
  runId: randomBytes(3)
    .toString('hex')
    .replace(/^[0-9]/, 'e'),
  tenants: int('BENCH_EDGE_TENANTS', 10),
  devices: int('BENCH_EDGE_DEVICES', 200),
  durationS: int('BENCH_EDGE_DURATION_S', 60),
  warmupS: int('BENCH_WARMUP_S', 3),
  batch: int('BENCH_EDGE_BATCH', 10),
  window: int('BENCH_EDGE_WINDOW', 5),
  /** Target rate of the paced MQTT scenario, readings per second across all devices. */
  rate: int('BENCH_EDGE_RATE', 10_000),
  pgServerUrl: process.env.BENCH_PG_URL ?? 'postgres://root@127.0.0.1:5432',
  /** Not used by the edge store; for dropping leftovers only (a tenant's placements are all listed). */
  mariadbUrl: process.env.BENCH_MARIADB_URL ?? 'mysql://root@127.0.0.1:3306',
  natsUrl: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
  catalogDatabase: 'polystore_bench_edge_system',
  baseDomain: 'bench.test',
  adminToken: `bench-admin-${randomBytes(18).toString('base64url')}`,
  masterKey: randomBytes(32).toString('base64'),
};
const prefix = `benche${settings.runId}`;

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
 * postmaster reaped from exited backends (lib/cpu.mjs), so that backends opened or closed during
 * a window are counted, and none subtracted.
 */
const postgresCpuSeconds = () => (cpuSnapshot({}).postgres ?? 0) / 100;

function rssMb(pid) {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(line.replace(/\D+/g, '')) / 1024;
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Cumulative bucket counts of a Prometheus histogram, by upper bound. */
function histogramBuckets(text, name, labels) {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}_bucket{`) && labels.every((label) => l.includes(label)))
    .map((l) => ({
      le: Number(/le="([^"]+)"/.exec(l)[1].replace('+Inf', 'Infinity')),
      count: Number(l.slice(l.lastIndexOf(' ') + 1)),
    }))
    .sort((a, b) => a.le - b.le);
}

/** Quantile of what a histogram recorded between two scrapes (upper bound of the bucket it falls in). */
function histogramQuantile(before, after, name, labels, q) {
  const old = new Map(histogramBuckets(before, name, labels).map((b) => [b.le, b.count]));
  const rows = histogramBuckets(after, name, labels).map((b) => ({ le: b.le, count: b.count - (old.get(b.le) ?? 0) }));
  const total = rows[rows.length - 1]?.count ?? 0;
  if (!total) return null;
  return rows.find((r) => r.count >= q * total)?.le ?? null;
}

function readingBatch(seqStart, size) {
  const ts = new Date().toISOString();
  return Array.from({ length: size }, (_, i) => ({
    seq: seqStart + i,
    ts,
    metrics: { temp: 20 + Math.random(), hum: 40 + Math.random() },
  }));
}

/** Runs one scenario for `seconds`; returns readings acknowledged and latencies (HTTP). */
async function drive(kind, devices, seconds, edgePort, brokerUrl, seqState, paced = false, rate = settings.rate) {
  const deadline = Date.now() + seconds * 1000;
  let acknowledged = 0;
  const latencies = [];
  const agent = new http.Agent({ keepAlive: true, maxSockets: devices.length });
  await Promise.all(
    devices.map(async (device) => {
      if (kind === 'mqtt') {
        const client = device.mqttClient;
        const inFlight = new Set();
        // Paced: each device sends one message every `interval` ms (rate / devices readings/s).
        const interval = (settings.batch * devices.length * 1000) / rate;
        let next = Date.now() + Math.random() * interval;
        while (Date.now() < deadline) {
          if (paced) {
            const wait = next - Date.now();
            if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
            next += interval;
          }
          const seq = seqState.get(device.deviceId);
          seqState.set(device.deviceId, seq + settings.batch);
          const publish = client
            .publishAsync(device.topic, JSON.stringify(readingBatch(seq, settings.batch)), { qos: 1 })
            .then(() => {
              acknowledged += settings.batch;
              inFlight.delete(publish);
            });
          inFlight.add(publish);
          if (!paced && inFlight.size >= settings.window) await Promise.race(inFlight);
        }
        await Promise.all(inFlight);
      } else {
        while (Date.now() < deadline) {
          const seq = seqState.get(device.deviceId);
          seqState.set(device.deviceId, seq + settings.batch);
          const body = Buffer.from(JSON.stringify(readingBatch(seq, settings.batch)));
          const started = performance.now();
          const status = await new Promise((resolve, reject) => {
            const req = http.request(
              {
                host: '127.0.0.1',
                port: edgePort,
                method: 'POST',
                path: '/ingest',
                agent,
                headers: {
                  authorization: `Bearer ${device.token}`,
                  'content-type': 'application/json',
                  'content-length': body.length,
                },
              },
              (res) => {
                res.resume();
                res.on('end', () => resolve(res.statusCode));
              },
            );
            req.on('error', reject);
            req.end(body);
          });
          if (status === 202) {
            acknowledged += settings.batch;
            latencies.push(performance.now() - started);
          } else if (status === 429) {
            await new Promise((resolve) => setTimeout(resolve, 200));
          } else {
            throw new Error(`HTTP ingest answered ${status}`);
          }
        }
      }
    }),
  );
  agent.destroy();
  return { acknowledged, latencies };
}

/** Rows of `readings` in the tenants' edge placements (primary key: device, seq). */
async function storedReadings(placements) {
  const counts = await countRows(settings, placements, 'readings');
  return counts.reduce((a, b) => a + b, 0);
}

function renderMarkdown(run) {
  const f = (n, d = 0) =>
    n === null || n === undefined
      ? '–'
      : n === Infinity
        ? 'backlog'
        : Number(n).toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const rows = run.scenarios.map(
    (s) =>
      `| ${s.label} | ${run.settings.devices} | ${run.settings.batch} | ${f(s.readingsPerSecond)} | ${f(s.ackP50Ms, 1)} | ${f(s.ackP99Ms, 1)} | ${f(s.edgeRssPeakMb)} | ${f(s.cpuPercent.edge)} | ${f(s.cpuPercent.postgres)} | ${f(s.cpuPercent.mosquitto)} | ${f(s.cpuPercent.bench)} | ${s.drainSeconds === undefined ? '–' : s.drainSeconds.toFixed(1)} |`,
  );
  return `# Telemetry ingest into PostgreSQL (durable: acknowledged after commit)

Run ${run.startedAt} on ${run.machine.cpus}, ${run.machine.memory}, Node ${run.machine.node}; broker, edge store, PostgreSQL and the load generator on the same machine.
${run.settings.devices} simulated devices across ${run.settings.tenants} tenants, ${run.settings.batch} readings per message / request, ${run.settings.durationS} s measured per scenario after ${run.settings.warmupS} s of warm-up. MQTT: QoS 1, ${run.settings.window} messages in flight per device. HTTP: one request at a time per device, keep-alive.

| scenario | devices | readings per message | readings/s (committed) | ack p50 ms | ack p99 ms | edge-store RSS peak MB | edge-store CPU % | PostgreSQL CPU % | Mosquitto CPU % | load generator CPU % | drain after window s |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
${rows.join('\n')}

CPU % is of one core (200% = both cores of this machine). MQTT scenarios are paced: every device sends one message at a fixed interval, the rates together giving the scenario's rate. The broker acknowledges a device at once; what the edge store cannot take at once waits at the broker, so readings/s (committed) is over the window plus the time after it until everything accepted was committed (*drain*): below capacity the drain is ~0 and readings/s is the offered rate; above it the drain grows and readings/s is the store's capacity. MQTT acknowledgement latency is measured in the edge store from a message's receipt to its PUBACK, sent after the commit (histogram, bucket upper bounds); HTTP latency is the device's own request time (202 after the commit).
Durability check: readings acknowledged ${f(run.acknowledged)}, rows stored ${f(run.stored)}: ${run.acknowledged === run.stored ? 'every acknowledged reading stored exactly once' : 'MISMATCH'}.
`;
}

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
  const mqttClients = [];
  try {
    log(
      `edge-ingest: run ${settings.runId}, ${settings.devices} devices, ${settings.tenants} tenants, ${settings.durationS} s per scenario`,
    );
    const earlier = await dropBenchLeftovers(settings);
    if (earlier)
      log(
        `dropped what an earlier run left: its catalog (${earlier.listed} placement(s) listed), ${earlier.schemas} schema(s), ${earlier.databases} database(s)`,
      );
    broker = await startMosquitto(dir);
    const env = {
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      SYSTEM_DB_URL: databaseUrl(settings.pgServerUrl, settings.catalogDatabase),
      EDGE_SERVER_URL: settings.pgServerUrl,
      NATS_URL: settings.natsUrl,
      NATS_SUBJECT_PREFIX: prefix,
      MASTER_KEY: settings.masterKey,
      MQTT_URL: broker.url,
      MQTT_ADMIN_PASSWORD: broker.password,
    };
    edge = await startApp({
      name: 'edge-store',
      script: 'dist/apps/edge-store/src/main.js',
      logDir: dir,
      env: { ...env, LOG_LEVEL: 'info', EDGE_HTTP_PORT: '0', INSTANCE_ID: `${prefix}-edge` },
    });
    gateway = await startApp({
      name: 'gateway',
      script: 'dist/apps/gateway/src/main.js',
      logDir: dir,
      env: {
        ...env,
        LOG_LEVEL: 'info',
        ADMIN_TOKEN: settings.adminToken,
        BASE_DOMAIN: settings.baseDomain,
        GATEWAY_PORT: '0',
        STORES: 'edge',
        INSTANCE_ID: `${prefix}-gateway`,
      },
    });
    log(`creating ${settings.tenants} tenants and ${settings.devices} devices ...`);
    const outcomes = await mapLimit(slugs, 4, async (slug) => {
      await expectStatus(201, {
        port: gateway.port,
        host: settings.baseDomain,
        token: settings.adminToken,
        method: 'POST',
        path: '/admin/tenants',
        body: { slug, name: slug },
      });
      created.push(slug);
    });
    const failed = outcomes.filter((o) => !o.ok);
    if (failed.length > 0)
      throw new Error(`${failed.length} tenants could not be created; first: ${failed[0].error.message}`);
    // Where each tenant's readings go: its edge placement, as the admin API lists it.
    const placementsBySlug = await listPlacements({ gatewayPort: gateway.port, settings });
    for (const slug of created) seen.push(...(placementsBySlug.get(slug) ?? []));
    const edgePlacements = created.map((slug) => placementOf(placementsBySlug.get(slug), 'edge', slug));
    const kinds = [...new Set(edgePlacements.map((p) => p.kind))];
    log(
      `  edge placements: ${kinds.join(', ')} (e.g. ${edgePlacements[0].database}${edgePlacements[0].schema ? `, schema ${edgePlacements[0].schema}` : ''})`,
    );
    nc = await connectNats({ url: settings.natsUrl, name: 'bench-edge' });
    const client = new MessageClient(nc, { subjectPrefix: prefix, defaultTimeoutMs: 10_000 });
    const devices = await mapLimit(
      Array.from({ length: settings.devices }, (_, i) => slugs[i % slugs.length]),
      8,
      (slug) => runAsTenant(slug, () => client.request(Contracts.edge.devices.provision, { deviceId: randomUUID() })),
    );
    const deviceList = devices.map((d) => ({ ...d.value, topic: d.value.mqtt.topic }));
    for (const device of deviceList) {
      device.mqttClient = await mqtt.connectAsync(broker.url, {
        username: device.deviceId,
        password: device.token,
        clientId: `bench-${device.deviceId}`,
        reconnectPeriod: 0,
      });
      mqttClients.push(device.mqttClient);
    }
    const seqState = new Map(deviceList.map((d) => [d.deviceId, 1]));
    const scenarios = [];
    let acknowledged = 0;
    const procs = () => ({
      edge: [edge.pid],
      mosquitto: [broker.child.pid],
      bench: [process.pid],
    });
    const plan = [
      {
        id: 'mqtt-paced',
        kind: 'mqtt',
        paced: true,
        label: `MQTT at ${settings.rate.toLocaleString('en-US')} readings/s`,
      },
      // Above the target: where the store keeps up, and how long a backlog takes to drain. (An
      // unpaced MQTT load is not a capacity test: the broker acknowledges devices at once, so a
      // 60 s flood queues millions of readings at the broker, which the store drains for minutes.)
      {
        id: 'mqtt-above',
        kind: 'mqtt',
        paced: true,
        rate: Math.round(settings.rate * 1.5),
        label: `MQTT at ${Math.round(settings.rate * 1.5).toLocaleString('en-US')} readings/s`,
      },
      { id: 'http', kind: 'http', paced: false, label: 'HTTP, closed loop' },
    ];
    for (const { id, kind, paced, label, rate = settings.rate } of plan) {
      log(`▶ ${id}: warm-up ${settings.warmupS} s, then ${settings.durationS} s`);
      const warm = await drive(kind, deviceList, settings.warmupS, edge.port, broker.url, seqState, paced, rate);
      // Let any backlog of the warm-up drain, so the window starts clean.
      for (let i = 0; i < 300; i++) {
        const text = (await request({ port: edge.port, host: '127.0.0.1', path: '/metrics' })).text;
        if (/polystore_mqtt_held_acks\S* 0\b/.test(text)) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      acknowledged += warm.acknowledged;
      const metricsBefore = (await request({ port: edge.port, host: '127.0.0.1', path: '/metrics' })).text;
      const committedOf = (text) => metricSum(text, 'polystore_ingest_readings_total', [`path="${kind}"`]) ?? 0;
      const storedBefore = committedOf(metricsBefore);
      const pids = procs();
      const cpuBefore = Object.fromEntries(Object.entries(pids).map(([k, v]) => [k, sumCpu(v)]));
      const postgresBefore = postgresCpuSeconds();
      let rssPeak = rssMb(edge.pid);
      const rssTimer = setInterval(() => (rssPeak = Math.max(rssPeak, rssMb(edge.pid))), 250);
      const started = Date.now();
      const result = await drive(kind, deviceList, settings.durationS, edge.port, broker.url, seqState, paced, rate);
      const windowEnded = Date.now();
      // MQTT: wait until what the broker accepted is committed (acknowledged to the broker) too.
      let metricsAfter = (await request({ port: edge.port, host: '127.0.0.1', path: '/metrics' })).text;
      const target = storedBefore + result.acknowledged;
      while (committedOf(metricsAfter) < target && Date.now() - started < (settings.durationS + 600) * 1000) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        metricsAfter = (await request({ port: edge.port, host: '127.0.0.1', path: '/metrics' })).text;
      }
      const elapsed = (Date.now() - started) / 1000;
      clearInterval(rssTimer);
      const cpuPercent = Object.fromEntries(
        Object.entries(pids).map(([k, v]) => [k, ((sumCpu(v) - cpuBefore[k]) / elapsed) * 100]),
      );
      cpuPercent.postgres = ((postgresCpuSeconds() - postgresBefore) / elapsed) * 100;
      acknowledged += result.acknowledged;
      const committed = committedOf(metricsAfter) - storedBefore;
      const sorted = result.latencies.sort((a, b) => a - b);
      const scenario = {
        id,
        label,
        kind,
        readingsAcknowledged: result.acknowledged,
        readingsCommitted: committed,
        seconds: elapsed,
        /** Time after the window until everything accepted was committed (the backlog drained). */
        drainSeconds: (Date.now() - windowEnded) / 1000,
        readingsPerSecond: committed / elapsed,
        ackP50Ms:
          kind === 'http'
            ? percentile(sorted, 50)
            : histogramQuantile(metricsBefore, metricsAfter, 'polystore_ingest_ack_seconds', ['path="mqtt"'], 0.5) *
              1000,
        ackP99Ms:
          kind === 'http'
            ? percentile(sorted, 99)
            : histogramQuantile(metricsBefore, metricsAfter, 'polystore_ingest_ack_seconds', ['path="mqtt"'], 0.99) *
              1000,
        edgeRssPeakMb: rssPeak,
        cpuPercent,
      };
      scenarios.push(scenario);
      log(
        `  ${Math.round(scenario.readingsPerSecond)} readings/s, ack p99 ${scenario.ackP99Ms?.toFixed(1)} ms, edge RSS peak ${Math.round(rssPeak)} MB, edge CPU ${Math.round(cpuPercent.edge)}%`,
      );
    }
    const stored = await storedReadings(edgePlacements);
    const run = {
      startedAt: new Date().toISOString(),
      settings: {
        tenants: settings.tenants,
        devices: settings.devices,
        batch: settings.batch,
        window: settings.window,
        durationS: settings.durationS,
        warmupS: settings.warmupS,
        placementKinds: kinds,
      },
      machine: await machineInfo(settings.pgServerUrl).then((m) => ({
        cpus: `${m.cpuCount} × ${m.cpuModel}`,
        memory: `${m.totalMemoryGiB} GiB`,
        node: m.nodeVersion,
        os: m.os,
        git: m.git,
      })),
      scenarios,
      acknowledged,
      stored,
    };
    const out = join(ROOT, 'bench/results');
    mkdirSync(out, { recursive: true });
    const stamp = fileStamp(new Date());
    writeFileSync(join(out, `${stamp}-edge-ingest.json`), `${JSON.stringify(run, null, 2)}\n`);
    const markdown = renderMarkdown(run);
    writeFileSync(join(out, `${stamp}-edge-ingest.md`), markdown);
    writeFileSync(join(out, 'latest-edge-ingest.md'), markdown);
    log(`\n${markdown}`);
  } finally {
    await Promise.all(mqttClients.map((c) => c.endAsync(true).catch(() => undefined)));
    await nc?.drain().catch(() => undefined);
    if (gateway?.isRunning) {
      log(`deleting ${created.length} tenants ...`);
      await mapLimit(created, 4, (slug) =>
        request({
          port: gateway.port,
          host: settings.baseDomain,
          token: settings.adminToken,
          method: 'DELETE',
          path: `/admin/tenants/${slug}`,
        }),
      );
    }
    await stopAll();
    broker?.child.kill('SIGTERM');
    await dropRunLeftovers(settings, seen)
      .then((result) => log(leftoversMessage(result, seen.length)))
      .catch((error) => log(`cleanup: dropping leftovers failed: ${error.message}`));
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
