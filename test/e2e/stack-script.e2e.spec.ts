import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { eventually } from '../support/eventually.js';
import { httpRequest } from '../support/http.js';
import { uniqueToken } from '../support/ids.js';
import { TEST_ADMIN_TOKEN, TEST_MASTER_KEY } from '../support/stack.js';
import { PrivateBroker } from '../support/device-broker.js';
import { TestServices } from '../support/services.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm run stack - every app as its own process, prefixed logs, one signal stops all', () => {
  // The edge store needs a device broker whose key it knows: a private one, not whatever runs on 4223.
  let broker: PrivateBroker;

  beforeAll(async () => {
    broker = await PrivateBroker.create();
  });

  afterAll(async () => {
    await broker?.close();
  });

  it('stack - starts the gateway and the stores, serves, and stops everything on SIGTERM', async () => {
    const prefix = `stk${uniqueToken(6)}`;
    const child = spawn(process.execPath, [`${ROOT}scripts/stack.mjs`], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'test',
        SYSTEM_DB_URL: TestServices.systemDbUrl,
        SECURE_SERVER_URL: TestServices.postgresUrl,
        NATS_URL: TestServices.natsUrl,
        NATS_SUBJECT_PREFIX: prefix,
        MASTER_KEY: TEST_MASTER_KEY,
        ADMIN_TOKEN: TEST_ADMIN_TOKEN,
        GATEWAY_PORT: '0',
        ADMIN_PORT: '0',
        DEVICE_BROKER_URL: broker.natsUrl,
        DEVICE_BROKER_KEY: broker.key.toString('base64'),
        EDGE_MQTT_PORT: String(broker.mqttPort),
        SECURE_HTTP_PORT: '0',
        RELIABLE_HTTP_PORT: '0',
        EDGE_HTTP_PORT: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

    const readyLines = await eventually(
      () => {
        const lines = output.split('\n').filter((l) => l.includes('"msg":"ready"'));
        return lines.length >= 4 && lines.some((l) => l.startsWith('[gateway]')) ? lines : false;
      },
      { timeoutMs: 45_000, what: 'the gateway and the three stores ready' },
    );
    expect(readyLines.some((l) => l.startsWith('[secure-store]'))).toBe(true);
    const gatewayLine = readyLines.find((l) => l.startsWith('[gateway]'))!;
    const gateway = JSON.parse(gatewayLine.slice(gatewayLine.indexOf('{'))) as {
      port: number;
      adminPort: number;
      pid: number;
    };
    const pids = readyLines.map((l) => (JSON.parse(l.slice(l.indexOf('{'))) as { pid: number }).pid);

    const ready = await eventually(
      async () => {
        const res = await httpRequest({ port: gateway.adminPort, path: '/health/ready', host: 'localhost' });
        return res.status === 200 ? res : false;
      },
      { timeoutMs: 30_000, what: 'the gateway ready with every store' },
    );
    for (const store of ['secure-store', 'reliable-store', 'edge-store']) expect(ready.body.info).toHaveProperty(store);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toContain('[gateway] exited (code 0)');
    for (const app of ['secure-store', 'reliable-store', 'edge-store'])
      expect(output).toContain(`[${app}] exited (code 0)`);
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });
});
