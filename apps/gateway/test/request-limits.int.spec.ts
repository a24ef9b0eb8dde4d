import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { HttpAdapterHost } from '@nestjs/core';
import type { ApiKeyPrincipal } from '#polystore/catalog';
import type { TenantSlug } from '#polystore/tenancy';
import Fastify from 'fastify';
import { TestServices } from '../../../test/support/services.js';
import { RequestLimits } from '../src/auth/request-limits.service.js';
import type { GatewayConfig } from '../src/config.js';

const REDIS_URL = TestServices.redisUrl;

interface Limits {
  readonly RATE_LIMIT_PER_KEY?: number;
  readonly RATE_LIMIT_PER_TENANT?: number;
  readonly AUTH_FAILURE_LIMIT_PER_MIN?: number;
  readonly REDIS_URL?: string;
  readonly NATS_SUBJECT_PREFIX?: string;
}

/** What one call of a route returned: the status and, for a refusal, its code and Retry-After. */
interface Outcome {
  readonly status: number;
  readonly code?: string;
  readonly retryAfter?: number;
}

const principal = (tenant: string, keyId: string): ApiKeyPrincipal => ({
  tenant: tenant as TenantSlug,
  keyId,
  scopes: ['full'],
  expiresAt: null,
});

/**
 * RequestLimits on a real Fastify instance (no Nest): `POST /admit` counts a request of
 * `{tenant, keyId}`, `POST /fail` counts a failed authentication, `GET /v1/anything` is a route
 * that the refusal hook guards on a tenant host. Calls come over HTTP from a chosen loopback
 * address (127.0.0.x), so each address is a client of its own.
 */
async function gateway(limits: Limits) {
  const fastify = Fastify();
  const config = {
    RATE_LIMIT_PER_KEY: 0,
    RATE_LIMIT_PER_TENANT: 0,
    AUTH_FAILURE_LIMIT_PER_MIN: 0,
    BASE_DOMAIN: 'polystore.test',
    NATS_SUBJECT_PREFIX: `t${randomBytes(4).toString('hex')}`,
    ...limits,
  } as GatewayConfig;
  const service = new RequestLimits(config, {
    httpAdapter: { getInstance: () => fastify },
  } as unknown as HttpAdapterHost);
  await service.install();
  const outcome = async (work: () => Promise<void>): Promise<Outcome> => {
    try {
      await work();
      return { status: 200 };
    } catch (error) {
      const e = error as { code: string; details?: { retryAfterSeconds?: number } };
      return { status: 429, code: e.code, retryAfter: e.details?.retryAfterSeconds };
    }
  };
  fastify.post<{ Body: { tenant: string; keyId: string } }>('/admit', (request) =>
    outcome(() => service.admit(request, principal(request.body.tenant, request.body.keyId))),
  );
  fastify.post('/fail', async (request) => {
    await service.countAuthFailure(request);
    return { status: 401 };
  });
  fastify.get('/v1/anything', () => ({ status: 200, reached: true }));
  await fastify.listen({ port: 0, host: '127.0.0.1' });
  const { port } = fastify.server.address() as AddressInfo;
  const call = (method: 'GET' | 'POST', path: string, body?: object, from = '127.0.0.1', host?: string) =>
    new Promise<Outcome & { body: Record<string, unknown> }>((resolve, reject) => {
      const payload = body ? JSON.stringify(body) : undefined;
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          method,
          path,
          localAddress: from,
          agent: false,
          headers: { ...(payload ? { 'content-type': 'application/json' } : {}), ...(host ? { host } : {}) },
        },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
          res.on('end', () => {
            const body = JSON.parse(text) as Record<string, unknown>;
            // A refusal answered by the hook: the status and Retry-After of the HTTP reply itself.
            if (res.statusCode !== 200)
              resolve({
                status: res.statusCode ?? 0,
                code: body['code'] as string,
                retryAfter: Number(res.headers['retry-after']),
                body,
              });
            else resolve({ ...(body as unknown as Outcome), body });
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  return {
    admit: (tenant: string, keyId: string, from?: string) => call('POST', '/admit', { tenant, keyId }, from),
    fail: (from: string) => call('POST', '/fail', undefined, from),
    /** A tenant API request from `from`: 200, or the hook's 429 for a refused address. */
    check: (from: string) => call('GET', '/v1/anything', undefined, from, 'acme.polystore.test'),
    /** Any route, with a Host header (`acme.polystore.test`: the tenant API). */
    route: (host: string, from: string) => call('GET', '/v1/anything', undefined, from, host),
    close: async () => {
      await fastify.close();
      await service.onApplicationShutdown();
    },
  };
}

const opened: Array<{ close(): Promise<void> }> = [];
async function open(limits: Limits) {
  const g = await gateway(limits);
  opened.push(g);
  return g;
}
const fresh = (what: string) => `${what}-${randomBytes(6).toString('hex')}`;
/** Fires `n` calls at once: one window of a one-second limit. */
const burst = (n: number, call: () => Promise<Outcome>) => Promise.all(Array.from({ length: n }, call));
const codes = (outcomes: Outcome[]) => outcomes.map((o) => o.code ?? 'ok');

describe('gateway - request limits (@fastify/rate-limit, in memory and on the real Redis)', () => {
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((g) => g.close()));
  });

  it('request limits - in memory: past RATE_LIMIT_PER_KEY in one second a key gets KEY_RATE_LIMITED, another key of the tenant does not', async () => {
    const g = await open({ RATE_LIMIT_PER_KEY: 5 });
    const tenant = fresh('acme');
    const outcomes = await burst(8, () => g.admit(tenant, 'key-1'));
    expect(codes(outcomes).sort()).toEqual([...Array(3).fill('KEY_RATE_LIMITED'), ...Array(5).fill('ok')]);
    expect(outcomes.find((o) => o.code)?.retryAfter).toBe(1);
    expect((await g.admit(tenant, 'key-2')).status).toBe(200);
  });

  it('request limits - in memory: past RATE_LIMIT_PER_TENANT a tenant gets TENANT_RATE_LIMITED whatever key it uses; another tenant does not', async () => {
    const g = await open({ RATE_LIMIT_PER_KEY: 5, RATE_LIMIT_PER_TENANT: 8 });
    const tenant = fresh('acme');
    let n = 0;
    const outcomes = await burst(12, () => g.admit(tenant, `key-${(n += 1) % 4}`));
    expect(codes(outcomes).sort()).toEqual([...Array(4).fill('TENANT_RATE_LIMITED'), ...Array(8).fill('ok')]);
    expect((await g.admit(fresh('other'), 'key-x')).status).toBe(200);
  });

  it('request limits - 0 turns each limit off', async () => {
    const g = await open({});
    const outcomes = await burst(50, () => g.admit('acme', 'key-1'));
    expect(new Set(codes(outcomes))).toEqual(new Set(['ok']));
    for (let i = 0; i < 50; i += 1) await g.fail('127.0.0.9');
    expect((await g.check('127.0.0.9')).status).toBe(200);
  });

  it('request limits - after AUTH_FAILURE_LIMIT_PER_MIN failures an address is refused for the rest of the minute; checking counts nothing; other addresses go on', async () => {
    const g = await open({ AUTH_FAILURE_LIMIT_PER_MIN: 3 });
    const attacker = '127.0.0.7';
    for (let i = 0; i < 10; i += 1) expect((await g.check(attacker)).status).toBe(200); // checks alone are free
    await g.fail(attacker);
    await g.fail(attacker);
    expect((await g.check(attacker)).status).toBe(200);
    await g.fail(attacker);
    const refused = await g.check(attacker);
    expect(refused.code).toBe('TOO_MANY_AUTH_FAILURES');
    expect(refused.retryAfter).toBeGreaterThanOrEqual(1);
    expect(refused.retryAfter).toBeLessThanOrEqual(60);
    expect((await g.check('127.0.0.8')).status).toBe(200);
  });

  it('request limits - a refused address gets 429 before routing on a tenant host, with the usual error body; the base domain and a malformed Host are left alone', async () => {
    const g = await open({ AUTH_FAILURE_LIMIT_PER_MIN: 2 });
    const attacker = '127.0.0.11';
    expect((await g.route('acme.polystore.test', attacker)).status).toBe(200);
    await g.fail(attacker);
    await g.fail(attacker);
    const refused = await g.route('acme.polystore.test', attacker);
    expect(refused).toMatchObject({ status: 429, code: 'TOO_MANY_AUTH_FAILURES' });
    expect(refused.retryAfter).toBeGreaterThanOrEqual(1);
    expect(refused.retryAfter).toBeLessThanOrEqual(60);
    expect(refused.body).toEqual({
      statusCode: 429,
      code: 'TOO_MANY_AUTH_FAILURES',
      message: expect.stringContaining('failed authentications'),
      correlationId: expect.any(String),
    });
    // Remembered locally: the same answer again, until the window ends.
    expect((await g.route('acme.polystore.test', attacker)).code).toBe('TOO_MANY_AUTH_FAILURES');
    expect((await g.route('polystore.test', attacker)).status).toBe(200);
    expect((await g.route('127.0.0.1', attacker)).status).toBe(200);
    expect((await g.route('acme.polystore.test', '127.0.0.12')).status).toBe(200);
  });

  it('request limits - on Redis, two gateways share the counters: 4 + 4 requests of one key in a second exceed a limit of 5', async () => {
    const prefix = fresh('t').replace('-', '');
    const a = await open({ RATE_LIMIT_PER_KEY: 5, REDIS_URL, NATS_SUBJECT_PREFIX: prefix });
    const b = await open({ RATE_LIMIT_PER_KEY: 5, REDIS_URL, NATS_SUBJECT_PREFIX: prefix });
    const tenant = fresh('acme');
    const outcomes = (
      await Promise.all([burst(4, () => a.admit(tenant, 'key-1')), burst(4, () => b.admit(tenant, 'key-1'))])
    ).flat();
    expect(codes(outcomes).sort()).toEqual([...Array(3).fill('KEY_RATE_LIMITED'), ...Array(5).fill('ok')]);
  });

  it("request limits - on Redis, failed authentications on one gateway refuse the address on the other; another stack's prefix is not affected", async () => {
    const prefix = fresh('t').replace('-', '');
    const a = await open({ AUTH_FAILURE_LIMIT_PER_MIN: 2, REDIS_URL, NATS_SUBJECT_PREFIX: prefix });
    const b = await open({ AUTH_FAILURE_LIMIT_PER_MIN: 2, REDIS_URL, NATS_SUBJECT_PREFIX: prefix });
    const otherStack = await open({ AUTH_FAILURE_LIMIT_PER_MIN: 2, REDIS_URL });
    const attacker = `127.0.${1 + (randomBytes(1)[0]! % 250)}.${1 + (randomBytes(1)[0]! % 250)}`;
    await a.fail(attacker);
    await a.fail(attacker);
    expect((await b.check(attacker)).code).toBe('TOO_MANY_AUTH_FAILURES');
    expect((await otherStack.check(attacker)).status).toBe(200);
  });

  it('request limits - Redis unreachable: requests are admitted (the limits never become an outage), each within a second', async () => {
    const g = await open({ RATE_LIMIT_PER_KEY: 1, AUTH_FAILURE_LIMIT_PER_MIN: 1, REDIS_URL: 'redis://127.0.0.1:1' });
    const started = Date.now();
    const outcomes = await burst(5, () => g.admit('acme', 'key-1'));
    await g.fail('127.0.0.5');
    await g.fail('127.0.0.5');
    expect(codes(outcomes)).toEqual(Array(5).fill('ok'));
    expect((await g.check('127.0.0.5')).status).toBe(200);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
