import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect } from 'node:net';
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually } from '../support/eventually.js';
import { uniqueToken } from '../support/ids.js';
import { TestServices } from '../support/services.js';
import { TestStack, type RunningApp, type TestTenant } from '../support/stack.js';

const PER_KEY = 5;
const PER_TENANT = 8;
const AUTH_FAILURES = 20;
const FLOOD = 10_000;
const FLOOD_CONCURRENCY = 4;
const CONNECTION_TIMEOUT_MS = 1_500;
const execFileAsync = promisify(execFile);

interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  readonly code?: string;
}

/**
 * A keep-alive HTTP client whose connections come from one loopback address (127.0.0.x): to the
 * gateway, a client address of its own (the per-address limit counts each apart).
 */
class Client {
  private readonly agent: Agent;

  constructor(
    private readonly address: string,
    sockets = 1,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets: sockets });
  }

  get(port: number, host: string, path: string, headers: Record<string, string> = {}): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port, path, localAddress: this.address, agent: this.agent, headers: { host, ...headers } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let code: string | undefined;
            try {
              code = (JSON.parse(text) as { code?: string }).code;
            } catch {
              code = undefined;
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, text, code });
          });
        },
      );
      req.setTimeout(30_000, () => req.destroy(new Error(`GET ${path} timed out`)));
      req.on('error', reject);
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/**
 * Catalog API-key lookups a gateway process made so far (`polystore_catalog_lookups_total`, the
 * queries that reached the system database): read from its /metrics on the port that serves it.
 */
async function catalogLookups(gateway: RunningApp, kind: 'api_key' | 'tenant' = 'api_key'): Promise<number> {
  const port = gateway.adminPort || gateway.port;
  const metrics = await new Client('127.0.0.1').get(port, 'polystore.test', '/metrics');
  if (metrics.status !== 200) throw new Error(`/metrics answered ${metrics.status}`);
  const line = new RegExp(`^polystore_catalog_lookups_total\\{[^}]*kind="${kind}"[^}]*\\} (\\d+)$`, 'm').exec(
    metrics.text,
  );
  return line ? Number(line[1]) : 0;
}

/**
 * `count` GETs with random well-formed keys over FLOOD_CONCURRENCY keep-alive connections from
 * `localAddress`, sent by a child process (test/support/http-flood.mjs): statuses and duration.
 */
async function floodFrom(
  localAddress: string,
  target: { port: number; host: string; path: string; count: number },
): Promise<{ statuses: Record<string, number>; elapsedMs: number }> {
  const args = JSON.stringify({ ...target, localAddress, concurrency: FLOOD_CONCURRENCY, randomApiKey: true });
  const script = fileURLToPath(new URL('../support/http-flood.mjs', import.meta.url));
  const { stdout } = await execFileAsync(process.execPath, [script, args], { maxBuffer: 1 << 20 });
  return JSON.parse(stdout) as { statuses: Record<string, number>; elapsedMs: number };
}

/** A well-formed API key nobody holds: `psk_` + 43 base64url characters. */
const randomKey = () => `psk_${randomBytes(32).toString('base64url')}`;
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const countOf = (replies: Reply[], code: string | undefined) => replies.filter((r) => r.code === code).length;
/** A request the guard admits and the route then refuses (400, not a UUID): counts against the limits, costs no store. */
const CHEAP = '/v1/customers/not-a-uuid';

describe('gateway - abuse controls: rate limits, failed authentications, no enumeration (e2e, Redis)', () => {
  let stack: TestStack;
  let replica: RunningApp;
  let floodGateway: RunningApp;
  const tenants: Record<'limited' | 'busy' | 'shared' | 'victim', TestTenant> = {} as never;
  let victimCustomer: string;
  const clients: Client[] = [];
  const client = (address: string, sockets = 1) => {
    const c = new Client(address, sockets);
    clients.push(c);
    return c;
  };
  const host = (tenant: string) => `${tenant}.${stack.baseDomain}`;
  /** A new key of `tenant` (admin API): its counter starts with its first request. */
  const newKey = async (tenant: TestTenant) => {
    const res = await stack.admin<{ apiKey: string }>('POST', `/admin/tenants/${tenant.slug}/api-keys`, {});
    if (res.status !== 201) throw new Error(`issuing a key failed: ${res.status} ${res.text}`);
    return res.body.apiKey;
  };

  beforeAll(async () => {
    stack = await TestStack.start({
      apps: ['secure-store', 'gateway'],
      env: {
        REDIS_URL: TestServices.redisUrl,
        RATE_LIMIT_PER_KEY: String(PER_KEY),
        RATE_LIMIT_PER_TENANT: String(PER_TENANT),
        AUTH_FAILURE_LIMIT_PER_MIN: String(AUTH_FAILURES),
      },
    });
    // A second replica with the same limits, and one without per-key/tenant limits for the flood
    // (its victim's own reads must not be rate limited); all three share the counters in Redis.
    [replica, floodGateway] = await Promise.all([
      stack.startReplica('gateway', 'b'),
      stack.startReplica('gateway', 'flood', {
        RATE_LIMIT_PER_KEY: '0',
        RATE_LIMIT_PER_TENANT: '0',
        // It provisions nothing: a short connection timeout can be tested on it.
        PROVISION_TIMEOUT_MS: '1000',
        HTTP_CONNECTION_TIMEOUT_MS: String(CONNECTION_TIMEOUT_MS),
      }),
    ]);
    const [limited, busy, shared, victim] = await Promise.all(
      ['limited', 'busy', 'shared', 'victim'].map((name) => stack.createTenant(name)),
    );
    Object.assign(tenants, { limited: limited!, busy: busy!, shared: shared!, victim: victim! });
    const created = await stack.request({
      method: 'POST',
      path: '/v1/customers',
      tenant: tenants.victim.slug,
      apiKey: tenants.victim.apiKey,
      body: { name: 'Victor Victim', email: 'victor@victim.example' },
    });
    expect(created.status).toBe(201);
    victimCustomer = created.body.id;
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    await stack?.close();
  });

  it('abuse - a key past RATE_LIMIT_PER_KEY in one second gets 429 KEY_RATE_LIMITED with Retry-After and the usual error body', async () => {
    const c = client('127.0.0.1', 8);
    const replies = await eventually(
      async () => {
        const key = await newKey(tenants.limited);
        const burst = await Promise.all(
          Array.from({ length: PER_KEY + 2 }, () =>
            c.get(stack.gatewayPort, host(tenants.limited.slug), CHEAP, bearer(key)),
          ),
        );
        // All in the key's first second (a slow machine may straddle two: then try a new key).
        return countOf(burst, 'KEY_RATE_LIMITED') === 2 ? burst : null;
      },
      { timeoutMs: 15_000, what: 'a burst within one second' },
    );
    expect(countOf(replies, 'VALIDATION_FAILED')).toBe(PER_KEY);
    const refused = replies.find((r) => r.status === 429)!;
    expect(refused.headers['retry-after']).toBe('1');
    expect(JSON.parse(refused.text)).toEqual({
      statusCode: 429,
      code: 'KEY_RATE_LIMITED',
      message: expect.stringContaining('API key'),
      correlationId: expect.any(String),
    });
  });

  it('abuse - a tenant past RATE_LIMIT_PER_TENANT gets 429 TENANT_RATE_LIMITED, whichever of its keys it uses', async () => {
    const c = client('127.0.0.1', 12);
    const replies = await eventually(
      async () => {
        const keys = await Promise.all(Array.from({ length: 4 }, () => newKey(tenants.busy)));
        // 3 requests per key (under the key's limit of 5), 12 for the tenant (over its 8).
        const burst = await Promise.all(
          keys.flatMap((key) =>
            Array.from({ length: 3 }, () => c.get(stack.gatewayPort, host(tenants.busy.slug), CHEAP, bearer(key))),
          ),
        );
        return countOf(burst, 'TENANT_RATE_LIMITED') > 0 ? burst : null;
      },
      { timeoutMs: 15_000, what: 'a tenant over its limit' },
    );
    expect(countOf(replies, 'KEY_RATE_LIMITED')).toBe(0);
    expect(countOf(replies, 'TENANT_RATE_LIMITED') + countOf(replies, 'VALIDATION_FAILED')).toBe(12);
    expect(replies.find((r) => r.code === 'TENANT_RATE_LIMITED')!.headers['retry-after']).toBe('1');
  });

  it('abuse - two gateway replicas share the limit through Redis: 4 requests on each with one key exceed a limit of 5', async () => {
    const c = client('127.0.0.1', 8);
    const replies = await eventually(
      async () => {
        const key = await newKey(tenants.shared);
        const on = (port: number) =>
          Array.from({ length: 4 }, () => c.get(port, host(tenants.shared.slug), CHEAP, bearer(key)));
        const burst = await Promise.all([...on(stack.gatewayPort), ...on(replica.port)]);
        // Each replica alone saw 4, under the limit: only a shared count refuses any.
        return countOf(burst, 'KEY_RATE_LIMITED') > 0 ? burst : null;
      },
      { timeoutMs: 15_000, what: 'a refusal only a shared counter explains' },
    );
    expect(countOf(replies, 'KEY_RATE_LIMITED') + countOf(replies, 'VALIDATION_FAILED')).toBe(8);
  });

  it("abuse - no enumeration: an unknown tenant, a wrong key, another tenant's key and no key get byte-identical 401s, and an unknown tenant still costs its key lookup", async () => {
    const c = client('127.0.0.4');
    const probe = { 'x-request-id': 'enumeration-probe-0001' };
    const victim = host(tenants.victim.slug);
    const path = `/v1/customers/${victimCustomer}`;
    const nobody = `e2e-${uniqueToken(8)}-nobody.${stack.baseDomain}`;
    const before = await catalogLookups(stack.app('gateway'));
    const unknownTenant = await c.get(stack.gatewayPort, nobody, path, { ...probe, ...bearer(randomKey()) });
    // The tenant was unknown, and the (fresh) key was still looked up: same work as a wrong key.
    expect(await catalogLookups(stack.app('gateway'))).toBe(before + 1);
    const replies = [
      unknownTenant,
      await c.get(stack.gatewayPort, nobody, path, { ...probe, ...bearer(tenants.victim.apiKey) }),
      await c.get(stack.gatewayPort, victim, path, { ...probe, ...bearer(randomKey()) }),
      await c.get(stack.gatewayPort, victim, path, { ...probe, ...bearer(tenants.limited.apiKey) }),
      await c.get(stack.gatewayPort, victim, path, probe),
    ];
    expect(replies.map((r) => r.status)).toEqual([401, 401, 401, 401, 401]);
    expect(new Set(replies.map((r) => r.text)).size).toBe(1);
    expect(JSON.parse(unknownTenant.text)).toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it(`abuse - ${FLOOD.toLocaleString('en')} requests with random keys from one address: only 401/429, a bounded number of catalog key lookups, and another tenant still served (p50 within 5x)`, async () => {
    const victim = client('127.0.0.2');
    const port = floodGateway.port;
    const path = `/v1/customers/${victimCustomer}`;
    const read = async () => {
      const started = performance.now();
      const res = await victim.get(port, host(tenants.victim.slug), path, bearer(tenants.victim.apiKey));
      expect(res.status).toBe(200);
      return performance.now() - started;
    };
    for (let i = 0; i < 10; i += 1) await read();
    const quiet: number[] = [];
    for (let i = 0; i < 60; i += 1) quiet.push(await read());

    const lookupsBefore = await catalogLookups(floodGateway);
    // The flood comes from a process of its own: this one only measures the victim meanwhile.
    const flood = floodFrom('127.0.0.3', { port, host: host(tenants.victim.slug), path, count: FLOOD });
    let flooding = true;
    void flood.finally(() => (flooding = false)).catch(() => undefined);
    const loaded: number[] = [];
    while (flooding) loaded.push(await read());
    const { statuses, elapsedMs } = await flood;
    const lookups = (await catalogLookups(floodGateway)) - lookupsBefore;
    // The baseline is measured before and after the flood: the machine's other load (a parallel
    // test suite) drifts, and the flood must be compared with the time around it, not one side.
    for (let i = 0; i < 60; i += 1) quiet.push(await read());

    process.stdout.write(
      `abuse flood: ${FLOOD} requests in ${elapsedMs} ms (${Math.round(FLOOD / (elapsedMs / 1000))}/s, ` +
        `${FLOOD_CONCURRENCY} connections), statuses ${JSON.stringify(statuses)}, catalog key lookups ${lookups}; ` +
        `victim p50 ${median(quiet).toFixed(1)} ms quiet, ${median(loaded).toFixed(1)} ms under flood (${loaded.length} reads)\n`,
    );
    expect(Object.keys(statuses).sort()).toEqual(['401', '429']);
    expect(Object.values(statuses).reduce((a, b) => a + b, 0)).toBe(FLOOD);
    // Each 401 cost one key lookup; past the limit no request reached the catalog. Requests already
    // in flight when the limit was reached add at most one per connection.
    expect(statuses['401']).toBeGreaterThanOrEqual(AUTH_FAILURES);
    expect(lookups).toBeGreaterThanOrEqual(statuses['401']!);
    expect(lookups).toBeLessThanOrEqual(AUTH_FAILURES + FLOOD_CONCURRENCY);
    expect(loaded.length).toBeGreaterThanOrEqual(20);
    // A loose bound: on 2 cores the flood's own client takes one and the suite's other worker
    // runs beside it, so the ratio is the machine's noise as much as the gateway's (1.5x with the
    // suite alone, 2.1-2.9x beside other suites: a 2x bound failed two of three full runs on 2026-12-07). It
    // catches a victim queued behind the flood; the ratio itself is printed above.
    expect(median(loaded)).toBeLessThanOrEqual(5 * median(quiet));

    // The address is refused even with a valid key, for the rest of the minute, without a lookup.
    const blocked = await client('127.0.0.3').get(port, host(tenants.victim.slug), path, bearer(tenants.victim.apiKey));
    expect([blocked.status, blocked.code]).toEqual([429, 'TOO_MANY_AUTH_FAILURES']);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(blocked.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect((await catalogLookups(floodGateway)) - lookupsBefore).toBe(lookups);
  });

  it('abuse - a connection that stops sending (headers never finished) is closed after HTTP_CONNECTION_TIMEOUT_MS', async () => {
    const socket = connect({ host: '127.0.0.1', port: floodGateway.port });
    await once(socket, 'connect');
    socket.resume();
    socket.write(`GET /health/live HTTP/1.1\r\nHost: ${stack.baseDomain}\r\n`);
    const started = Date.now();
    const closed = once(socket, 'close').then(() => Date.now() - started);
    const tooLate = new Promise<number>((resolve) =>
      setTimeout(() => resolve(Number.POSITIVE_INFINITY), 10_000).unref(),
    );
    const elapsed = await Promise.race([closed, tooLate]);
    socket.destroy();
    expect(elapsed).toBeGreaterThanOrEqual(CONNECTION_TIMEOUT_MS - 100);
    expect(elapsed).toBeLessThan(10_000);
    // The gateway goes on serving.
    expect((await client('127.0.0.1').get(floodGateway.port, stack.baseDomain, '/health/live')).status).toBe(200);
  });
});
