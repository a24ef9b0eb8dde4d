#!/usr/bin/env node
// One publishing process of bench/edge.mjs (forked, IPC): a share of the simulated devices, each
// with its own MQTT connection (username = device id, password = its credential) and, for HTTP,
// its own keep-alive socket to the edge store's POST /ingest (Authorization: Bearer <credential>).
// Several of these run at once: mqtt.js in one process tops out at ~16k messages/s, below what
// the edge store is asked to take.
//
// Messages from the parent:
//   { type: 'init', mqttUrl, edgePort, devices: [{ deviceId, token, topic }] }  -> { type: 'ready' }
//   { type: 'run', kind: 'mqtt' | 'http', seconds, rate, batch, window, paced } -> { type: 'done', ... }
//   { type: 'devices' } -> { type: 'devices', devices: { <id>: { sent, acknowledged, failed } } }
//   { type: 'close' }   -> closes the connections and exits
// `rate` is this process's share, in readings/s; paced: every device sends one message (or
// request) at a fixed interval, at most `window` unacknowledged MQTT messages (HTTP: one request)
// at a time. Each reading's `ts` is its send time (ISO, ms): the parent compares it with the
// stored row's `received_at`. Sequence numbers run on per device across runs (1, 2, ...).
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import mqtt from 'mqtt';

/** Latencies kept per run (a uniform sample beyond this; percentiles stay unbiased). */
const MAX_SAMPLES = 200_000;

let devices = [];
let edgePort = 0;

function send(message) {
  process.send(message);
}

function readingBatch(seqStart, size) {
  const ts = new Date().toISOString();
  return Array.from({ length: size }, (_, i) => ({
    seq: seqStart + i,
    ts,
    metrics: { temp: 20 + Math.random(), hum: 40 + Math.random() },
  }));
}

/** Reservoir sample of latencies in ms. */
class Samples {
  constructor() {
    this.values = [];
    this.seen = 0;
  }

  add(ms) {
    this.seen++;
    if (this.values.length < MAX_SAMPLES) this.values.push(ms);
    else {
      const slot = Math.floor(Math.random() * this.seen);
      if (slot < MAX_SAMPLES) this.values[slot] = ms;
    }
  }
}

async function init(message) {
  edgePort = message.edgePort;
  devices = message.devices.map((d) => ({ ...d, nextSeq: 1, sent: 0, acknowledged: 0, failed: 0, client: null }));
  for (const device of devices) {
    device.client = await mqtt.connectAsync(message.mqttUrl, {
      username: device.deviceId,
      password: device.token,
      clientId: `bench-${device.deviceId}`,
      reconnectPeriod: 0,
      connectTimeout: 30_000,
    });
    device.client.on('error', () => undefined);
  }
  send({ type: 'ready' });
}

function postIngest(agent, device, body) {
  return new Promise((resolve, reject) => {
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
    req.setTimeout(30_000, () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

async function run({ kind, seconds, rate, batch, window, paced }) {
  const deadline = Date.now() + seconds * 1000;
  const totals = { sent: 0, acknowledged: 0, failed: 0, statuses: {}, errors: {} };
  const latencies = new Samples();
  const agent = new http.Agent({ keepAlive: true, maxSockets: devices.length });
  // Every device sends one message per `interval` ms: together `rate` readings/s.
  const interval = (batch * devices.length * 1000) / rate;
  const countError = (error) => {
    const key = String(error?.message ?? error).slice(0, 80);
    totals.errors[key] = (totals.errors[key] ?? 0) + 1;
  };
  await Promise.all(
    devices.map(async (device) => {
      let next = Date.now() + Math.random() * interval;
      const inFlight = new Set();
      while (Date.now() < deadline) {
        if (paced) {
          const wait = next - Date.now();
          if (wait > 0) await sleep(wait);
          if (Date.now() >= deadline) break;
          next += interval;
        }
        const seq = device.nextSeq;
        device.nextSeq += batch;
        const payload = JSON.stringify(readingBatch(seq, batch));
        device.sent += batch;
        totals.sent += batch;
        const started = performance.now();
        if (kind === 'mqtt') {
          if (!device.client.connected) {
            device.failed += batch;
            totals.failed += batch;
            countError(new Error('MQTT connection closed'));
            await sleep(100);
            continue;
          }
          const publish = device.client
            .publishAsync(device.topic, payload, { qos: 1 })
            .then(
              () => {
                device.acknowledged += batch;
                totals.acknowledged += batch;
                latencies.add(performance.now() - started);
              },
              (error) => {
                device.failed += batch;
                totals.failed += batch;
                countError(error);
              },
            )
            .finally(() => inFlight.delete(publish));
          inFlight.add(publish);
          if (inFlight.size >= window) await Promise.race(inFlight);
        } else {
          let status;
          try {
            status = await postIngest(agent, device, Buffer.from(payload));
          } catch (error) {
            countError(error);
            status = 0;
          }
          totals.statuses[status] = (totals.statuses[status] ?? 0) + 1;
          if (status === 202) {
            device.acknowledged += batch;
            totals.acknowledged += batch;
            latencies.add(performance.now() - started);
          } else {
            // Refused (429, 503) or lost: the device would send these again; here they count as
            // not acknowledged (they may still be stored when the answer, not the request, was lost).
            device.failed += batch;
            totals.failed += batch;
            if (status === 429 || status === 503) await sleep(200);
          }
        }
      }
      await Promise.all(inFlight);
    }),
  );
  agent.destroy();
  send({
    type: 'done',
    ...totals,
    latencies: latencies.values.map((ms) => Math.round(ms * 100) / 100),
    latencyCount: latencies.seen,
  });
}

process.on('message', (message) => {
  const fail = (error) => {
    send({ type: 'error', message: error?.stack ?? String(error) });
  };
  switch (message.type) {
    case 'init':
      init(message).catch(fail);
      break;
    case 'run':
      run(message).catch(fail);
      break;
    case 'devices':
      send({
        type: 'devices',
        devices: Object.fromEntries(
          devices.map((d) => [d.deviceId, { sent: d.sent, acknowledged: d.acknowledged, failed: d.failed }]),
        ),
      });
      break;
    case 'close':
      Promise.all(devices.map((d) => d.client?.endAsync(true).catch(() => undefined))).finally(() => process.exit(0));
      break;
    default:
      fail(new Error(`unknown message ${JSON.stringify(message)}`));
  }
});
process.on('disconnect', () => process.exit(0));
