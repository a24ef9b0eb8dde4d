// A private device broker for a benchmark: the machine's nats-server with the configuration
// `polystore broker config` writes (`brokerServerConfig` of libs/device-broker: operator/JWT mode,
// full account resolver, JetStream, the MQTT listener), in a fresh directory, on free ports, with
// a fresh key (what the edge store is given as DEVICE_BROKER_KEY). The bench's JS counterpart of
// test/support/device-broker.ts (PrivateBroker).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BrokerKeys, brokerServerConfig } from '#polystore/device-broker';

export const NATS_SERVER = process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server';

/** A free TCP port on loopback. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function accepts(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** GET `path` of the monitoring endpoint on `port`, parsed as JSON. */
function monitoring(port, path) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch (error) {
          reject(error);
        }
      });
    });
    req.setTimeout(5_000, () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
  });
}

/** The state of one stream and its consumers, from `/jsz` (null when the stream does not exist yet). */
function streamState(jsz, name) {
  for (const account of jsz.account_details ?? []) {
    for (const stream of account.stream_detail ?? []) {
      if (stream.name !== name) continue;
      return {
        messages: stream.state.messages,
        bytes: stream.state.bytes,
        consumers: Object.fromEntries(
          (stream.consumer_detail ?? []).map((c) => [
            c.name,
            {
              pending: c.num_pending,
              ackPending: c.num_ack_pending,
              redelivered: c.num_redelivered,
              waiting: c.num_waiting,
              delivered: c.delivered?.stream_seq,
              ackFloor: c.ack_floor?.stream_seq,
            },
          ]),
        ),
      };
    }
  }
  return null;
}

/**
 * Starts a private device broker in `dir` (its nats.conf, nats.log and data/ go there) and waits
 * until its NATS, MQTT and monitoring ports accept. Returns `{ child, pid, key, natsUrl, mqttUrl,
 * streams(), varz(), stop() }`; `key` is the base64 DEVICE_BROKER_KEY every broker key is derived
 * from (the edge store must be given the same).
 */
export async function startDeviceBroker(dir) {
  const secret = randomBytes(32);
  const keys = new BrokerKeys(secret);
  const [port, mqttPort, httpPort] = [await freePort(), await freePort(), await freePort()];
  mkdirSync(join(dir, 'broker'), { recursive: true });
  const config = brokerServerConfig(keys, {
    serverName: `bench-broker-${port}`,
    host: '127.0.0.1',
    port,
    mqttPort,
    httpPort,
    dataDir: join(dir, 'broker', 'data'),
  });
  const configFile = join(dir, 'broker', 'nats.conf');
  const logFile = join(dir, 'broker', 'nats.log');
  writeFileSync(configFile, config, { mode: 0o600 });
  // Its own process group (like the apps): a Ctrl-C in the terminal reaches the bench only, which stops it.
  const child = spawn(NATS_SERVER, ['-c', configFile, '-l', logFile], { stdio: 'ignore', detached: true });
  let exit = null;
  child.once('exit', (code, signal) => (exit = { code, signal }));
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (exit) throw new Error(`nats-server exited at start (${JSON.stringify(exit)}); see ${logFile}`);
    if ((await accepts(port)) && (await accepts(mqttPort)) && (await accepts(httpPort))) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`nats-server not accepting on :${port} / MQTT :${mqttPort} after 15 s; see ${logFile}`);
    }
    await sleep(50);
  }
  return {
    child,
    pid: child.pid,
    key: secret.toString('base64'),
    keys,
    natsUrl: `nats://127.0.0.1:${port}`,
    mqttUrl: `mqtt://127.0.0.1:${mqttPort}`,
    logFile,
    /** Server totals (`/varz`): memory, connections, messages in and out. */
    varz: () => monitoring(httpPort, '/varz'),
    /** `{ TELEMETRY, DEAD_LETTERS }`: messages and bytes held, and each consumer's pending / ack-pending / redelivered. */
    async streams() {
      const jsz = await monitoring(httpPort, '/jsz?accounts=true&streams=true&consumers=true');
      return { TELEMETRY: streamState(jsz, 'TELEMETRY'), DEAD_LETTERS: streamState(jsz, 'DEAD_LETTERS') };
    },
    /** SIGTERM (a clean shutdown flushes JetStream), SIGKILL after `timeoutMs`. */
    async stop(timeoutMs = 10_000) {
      if (exit) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
