import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  type ClientRegistration,
  deviceHoldings,
  registerDevice,
  registerUntilFinal,
} from '../support/device-registrations.js';
import { eventually } from '../support/eventually.js';
import type { HttpResponse } from '../support/http.js';
import { pgQuery } from '../support/pg.js';
import { TestStack, type AppName, type TestTenant } from '../support/stack.js';
import { uniqueToken } from '../support/ids.js';
import { TestServices } from '../support/services.js';

/**
 * Unavailable is not failed: stores and the gateway killed (SIGKILL) and restarted while clients
 * register devices with Idempotency-Keys, retrying each key as the API tells them (202, 503, a
 * refused connection) until it has a final answer. Every key gets exactly one device, nothing
 * is compensated because a process restarted, and a key whose saga gave up (an outage longer
 * than the window) answers the same final error every time, never a 503. The suite has its own
 * system database, so no other suite's gateway sweeps its sagas.
 */
describe('saga outages - restarts never undo accepted work, and every key has a final answer (e2e)', () => {
  const systemDb = `ps_sys_e2e_${uniqueToken(8)}`;
  let stack: TestStack;
  let tenant: TestTenant;

  beforeAll(async () => {
    const systemUrl = new URL(TestServices.systemDbUrl);
    systemUrl.pathname = `/${systemDb}`;
    stack = await TestStack.start({
      apps: ['secure-store', 'reliable-store', 'edge-store', 'gateway'],
      parallelStart: true,
      env: { SYSTEM_DB_URL: systemUrl.toString(), SAGA_LEASE_MS: '1500', SAGA_SWEEP_INTERVAL_MS: '300' },
    });
    tenant = await stack.createTenant('outages');
  }, 90_000);

  afterAll(async () => {
    await stack?.close();
    await pgQuery(`DROP DATABASE IF EXISTS "${systemDb}" WITH (FORCE)`);
  });

  const system = <R extends Record<string, unknown>>(sql: string, params: unknown[] = []) =>
    pgQuery<R>(sql, params, systemDb);
  const register = (name: string, key: string) => registerDevice(stack, tenant, name, key);
  const get = (path: string) => stack.request({ method: 'GET', path, tenant: tenant.slug, apiKey: tenant.apiKey });

  it('saga - 10 clients registering while the reliable, secure and edge stores and the gateway are each SIGKILLed for 2 s: every key 201 with one device, nothing compensated', async () => {
    const run = uniqueToken(6);
    let lastRestart = Number.POSITIVE_INFINITY;
    let completed = 0;
    // Each client registers one device after another, from before the first kill until 3 s after the last restart.
    const clients = Array.from({ length: 10 }, async (_, c) => {
      const results: ClientRegistration[] = [];
      for (let i = 0; Date.now() < lastRestart + 3_000; i++) {
        results.push(
          await registerUntilFinal(register, `${run}-c${c}-${i}`, `${run}-c${c}-${i}`, () => lastRestart + 60_000),
        );
        completed++;
      }
      return results;
    });
    await eventually(() => completed >= 20, { timeoutMs: 30_000, what: 'a first 20 registrations' });
    const killed: Array<{ app: AppName; before: number; after: number }> = [];
    for (const app of ['reliable-store', 'secure-store', 'edge-store', 'gateway'] as const) {
      // Kill at the worst moment we can aim at: with registrations in flight at this app.
      await eventually(
        async () =>
          Number(
            (
              await system<{ n: string }>(
                `SELECT count(*)::text AS n FROM sagas WHERE state IN ('PENDING', 'RUNNING') AND tenant = $1`,
                [tenant.slug],
              )
            )[0]!.n,
          ) > 0,
        { what: `registrations in flight before killing ${app}` },
      );
      const before = stack.app(app).child.pid!;
      await stack.app(app).stop('SIGKILL');
      await new Promise((resolve) => setTimeout(resolve, 2_000)); // the outage itself
      const after = (await stack.startApp(app)).child.pid!;
      killed.push({ app, before, after });
    }
    lastRestart = Date.now();
    const results = (await Promise.all(clients)).flat();

    expect(killed.every((k) => k.before !== k.after)).toBe(true);
    const notCreated = results.filter((r) => r.answer?.status !== 201).map((r) => ({ key: r.key, seen: r.seen }));
    expect(notCreated).toEqual([]);
    expect(results.length).toBeGreaterThan(30);
    // Each key is one device: distinct ids, and the key answers the same device again.
    const ids = results.map((r) => r.answer!.body.id as string);
    expect(new Set(ids).size).toBe(results.length);
    for (const r of results.slice(0, 20)) {
      const again = await register(r.name, r.key);
      expect({ status: again.status, id: again.body.id }).toEqual({ status: 201, id: r.answer!.body.id });
    }
    // Every acknowledged registration is readable and active, in all three stores.
    const unreadable: string[] = [];
    for (const id of ids) {
      const device = await get(`/v1/devices/${id}`);
      if (device.status !== 200 || device.body.status !== 'active') unreadable.push(`${id}: ${device.status}`);
    }
    expect(unreadable).toEqual([]);
    const held = await deviceHoldings(stack, tenant.slug, ids);
    const provisioned = [...held.edge.values()].filter((status) => status === 'active');
    expect([held.credentials.size, provisioned.length]).toEqual([ids.length, ids.length]);
    // No half-registered device: the registry holds exactly the acknowledged ones.
    const registry = await stack.tenantSql<{ n: number }>(
      tenant.slug,
      'reliable',
      "SELECT count(*) AS n FROM devices WHERE name LIKE CONCAT(?, '-%')",
      [run],
    );
    expect(Number(registry[0]!.n)).toBe(ids.length);
    // A restart undid nothing: no saga of the run was compensated.
    const states = await system<{ state: string; n: string }>(
      `SELECT state, count(*)::text AS n FROM sagas WHERE tenant = $1 AND input->>'name' LIKE $2 GROUP BY state`,
      [tenant.slug, `${run}-%`],
    );
    expect(states).toEqual([{ state: 'SUCCEEDED', n: String(ids.length) }]);
  }, 240_000);

  // This test's gateway has a registration deadline of 10 s instead of 60 s: what it shows (an
  // outage outlasting the deadline and the step's attempts undoes nothing) needs the deadline
  // passed, not its length. The default window (2 minutes) stays: the outage is shorter.
  const SHORT_DEADLINE_MS = 10_000;

  it('saga - a store down until 10 s past the saga deadline (10 s here, SAGA_DEVICE_REGISTRATION_DEADLINE_MS), past the old retry budget too: the key answers 202 with a status link, the step shows it is waiting, and the registration completes when the store returns', async () => {
    const key = `wait-${uniqueToken(8)}`;
    const name = `waiting-${uniqueToken(6)}`;
    await stack.app('gateway').stop('SIGTERM');
    await stack.startApp('gateway', { SAGA_DEVICE_REGISTRATION_DEADLINE_MS: String(SHORT_DEADLINE_MS) });
    await stack.app('reliable-store').stop('SIGKILL');
    let sagaId: string;
    try {
      const first = await register(name, key);
      expect(first.status).toBe(202);
      sagaId = first.body.sagaId;
      expect(first.headers['location']).toBe(`/v1/sagas/${sagaId}`);
      expect(first.body.statusUrl).toBe(`/v1/sagas/${sagaId}`);
      // Waiting, and visibly so: since when, until when, the last error.
      const waiting = await eventually(
        async () => {
          const saga = await get(`/v1/sagas/${sagaId}`);
          const registry = saga.body.steps?.find((s: { step: string }) => s.step === 'registry');
          return registry?.unknownSince && registry.attempts > 6 ? { saga: saga.body, registry } : false;
        },
        { timeoutMs: 20_000, what: 'the registry step waiting past its attempts' },
      );
      expect(waiting.saga.state).toBe('RUNNING');
      expect(Date.parse(waiting.registry.retryUntil) - Date.parse(waiting.registry.unknownSince)).toBe(120_000);
      expect(waiting.registry.error).toMatchObject({ kind: 'UNAVAILABLE' });
      const metrics = (await stack.internal({ path: '/metrics' })).text;
      expect(metrics).toMatch(/polystore_saga_steps_waiting\{saga="device-registration"[^}]*\} [1-9]/);
      expect(metrics).toMatch(
        /polystore_saga_step_attempts_total\{saga="device-registration",step="registry",phase="action",outcome="unknown"[^}]*\} [1-9]/,
      );
      const listed = await stack.admin('GET', '/admin/sagas?state=RUNNING');
      expect(listed.body.items.map((s: { id: string }) => s.id)).toContain(sagaId);
      const meanwhile = await register(name, key);
      expect([meanwhile.status, meanwhile.body.sagaId]).toEqual([202, sagaId]);
      // The outage lasts until 10 s (two of the step's longest backoffs) past the saga's deadline
      // (10 s from its start here; it moves only once the step is answered): still waiting, not undone.
      const deadline = Date.parse(waiting.saga.deadlineAt);
      expect(Math.abs(deadline - Date.parse(waiting.saga.createdAt) - SHORT_DEADLINE_MS)).toBeLessThan(1_000);
      await eventually(() => deadline + 10_000 < Date.now(), {
        timeoutMs: SHORT_DEADLINE_MS + 15_000,
        intervalMs: 500,
        what: '10 s past the saga deadline',
      });
      const late = await get(`/v1/sagas/${sagaId}`);
      expect(late.body.state).toBe('RUNNING');
      expect(late.body.steps.find((s: { step: string }) => s.step === 'registry')).toMatchObject({
        unknownSince: waiting.registry.unknownSince,
      });
    } finally {
      await stack.startApp('reliable-store');
    }
    const done = await eventually(
      async () => {
        const answer = await register(name, key);
        return answer.status === 201 ? answer : false;
      },
      { timeoutMs: 30_000, what: 'the registration completed' },
    );
    expect(done.body.sagaId).toBe(sagaId);
    const saga = await get(`/v1/sagas/${sagaId}`);
    expect(saga.body.state).toBe('SUCCEEDED');
    expect(saga.body.steps.every((s: { unknownSince: unknown }) => s.unknownSince === null)).toBe(true);
    expect((await get(`/v1/devices/${done.body.id}`)).body.status).toBe('active');
  }, 120_000);

  it('saga - a store down longer than the window: the registration is undone, and its key answers 409 OPERATION_ABANDONED every time (never 503), across a gateway restart; a new key works', async () => {
    await stack.app('gateway').stop('SIGKILL');
    await stack.startApp('gateway', { SAGA_UNKNOWN_OUTCOME_WINDOW_MS: '4000' });
    const key = `lost-${uniqueToken(8)}`;
    const name = `abandoned-${uniqueToken(6)}`;
    let sagaId: string;
    await stack.app('reliable-store').stop('SIGKILL');
    try {
      const first = await register(name, key);
      expect([202, 409]).toContain(first.status);
      sagaId = first.body.sagaId;
      await eventually(
        async () =>
          (await system<{ state: string }>('SELECT state FROM sagas WHERE id = $1', [sagaId]))[0]?.state !== 'RUNNING',
        { timeoutMs: 20_000, what: 'the saga gave up on the registry step' },
      );
    } finally {
      await stack.startApp('reliable-store');
    }
    // Its undo needs the store back; if it outlasted the window too, an operator retries it.
    const settled = await eventually(
      async () => {
        const state = (await system<{ state: string }>('SELECT state FROM sagas WHERE id = $1', [sagaId]))[0]!.state;
        if (state === 'COMPENSATION_FAILED') await stack.admin('POST', `/admin/sagas/${sagaId}/retry`);
        return state === 'COMPENSATED' ? state : false;
      },
      { timeoutMs: 30_000, what: 'the registration undone' },
    );
    expect(settled).toBe('COMPENSATED');
    const expectAbandoned = (answer: HttpResponse<any>) => {
      expect(answer.status).toBe(409);
      expect(answer.body).toMatchObject({ code: 'OPERATION_ABANDONED', sagaId });
      expect(answer.body.message).toContain('STEP_UNANSWERED');
    };
    expectAbandoned(await register(name, key));
    expectAbandoned(await register(name, key));
    await stack.app('gateway').stop('SIGKILL');
    await stack.startApp('gateway');
    expectAbandoned(await register(name, key));
    const saga = await get(`/v1/sagas/${sagaId}`);
    expect(saga.body.error).toMatchObject({ step: 'registry', code: 'STEP_UNANSWERED' });
    const device = await stack.tenantSql<{ n: number }>(
      tenant.slug,
      'reliable',
      'SELECT count(*) AS n FROM devices WHERE name = ?',
      [name],
    );
    expect(Number(device[0]!.n)).toBe(0);
    const fresh = await register(name, `${key}-new`);
    expect(fresh.status).toBe(201);
  }, 120_000);

  it("saga - a registration answered 202 whose device was rotated before its key came back: the key's 201 and the saga's status show no token (never the rotation's)", async () => {
    // Defaults (a 2 min window): the credential step waits for the secure store, the request answers 202.
    await stack.app('gateway').stop('SIGTERM');
    await stack.startApp('gateway');
    const key = `superseded-${uniqueToken(8)}`;
    const name = `superseded-${uniqueToken(6)}`;
    await stack.app('secure-store').stop('SIGKILL');
    let sagaId: string;
    let id: string;
    try {
      const pending = await register(name, key);
      expect(pending.status).toBe(202);
      ({ sagaId, id } = pending.body as { sagaId: string; id: string });
    } finally {
      await stack.startApp('secure-store');
    }
    // Read from the log, not the tenant's saga page (whose first read after success shows the token).
    await eventually(
      async () =>
        (await system<{ state: string }>('SELECT state FROM sagas WHERE id = $1', [sagaId]))[0]!.state === 'SUCCEEDED',
      { timeoutMs: 30_000, what: 'the registration completed' },
    );
    const rotated = await stack.request({
      method: 'POST',
      path: `/v1/devices/${id}/credentials`,
      headers: { 'idempotency-key': `rotate-${key}` },
      tenant: tenant.slug,
      apiKey: tenant.apiKey,
    });
    expect(rotated.status).toBe(201);
    expect(rotated.body).toMatchObject({ id, generation: 2, token: expect.any(String) });
    const answer = await register(name, key);
    expect(answer.status).toBe(201);
    expect(answer.body).toEqual({ id, sagaId });
    const status = await get(`/v1/sagas/${sagaId}`);
    expect(status.status).toBe(200);
    expect(status.body.state).toBe('SUCCEEDED');
    expect(status.body.token).toBeUndefined();
  }, 90_000);
});
