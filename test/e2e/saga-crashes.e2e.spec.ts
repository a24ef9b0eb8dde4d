import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { sha256 } from '#polystore/platform';
import { NO_EXPIRY } from '#polystore/idempotency';
import { sagaStepKey } from '#polystore/saga';
import mqtt from 'mqtt';
import { uuidFrom } from '../../apps/gateway/src/sagas/saga-outcome.util.js';
import { PrivateBus } from '../support/bus.js';
import type { PrivateBroker } from '../support/device-broker.js';
import {
  type ClientRegistration,
  credentialGenerations,
  deviceHoldings,
  registerDevice,
  registerUntilFinal,
} from '../support/device-registrations.js';
import { eventually } from '../support/eventually.js';
import type { HttpResponse } from '../support/http.js';
import { uniqueToken } from '../support/ids.js';
import { pgQuery } from '../support/pg.js';
import { TestServices } from '../support/services.js';
import { TestStack, type AppName, type TestTenant } from '../support/stack.js';

const STORES = ['edge-store', 'secure-store', 'reliable-store'] as const;
const APPS: readonly AppName[] = [...STORES, 'gateway'];

/**
 * Crashes the other saga suites do not cover (issue 15): a participant SIGKILLed inside its
 * compensation, after the undo committed and before it answered; and the bus itself (NATS,
 * with its JetStream store) SIGKILLed while registrations are in flight. One stack on a private
 * bus (so the bus can be killed without touching other suites) and its own system database (so
 * no other suite's gateway sweeps its sagas). The unknown-outcome window is the default
 * (2 minutes): every restart here fits in it with a wide margin, and no assertion depends on
 * how fast a process restarts.
 *
 * SAGA-FAILURES.md scenarios and the tests that cover them: see libs/saga/README.md.
 */
describe('saga crashes - a participant killed inside a compensation, the bus killed inside sagas (e2e)', () => {
  const systemDb = `ps_sys_e2e_${uniqueToken(8)}`;
  let bus: PrivateBus;
  let stack: TestStack;
  let tenant: TestTenant;

  beforeAll(async () => {
    const systemUrl = new URL(TestServices.systemDbUrl);
    systemUrl.pathname = `/${systemDb}`;
    bus = await PrivateBus.create();
    stack = await TestStack.start({
      apps: APPS,
      parallelStart: true,
      bus,
      env: { SYSTEM_DB_URL: systemUrl.toString(), SAGA_LEASE_MS: '1500', SAGA_SWEEP_INTERVAL_MS: '300' },
    });
    tenant = await stack.createTenant('crashes');
  }, 90_000);

  /** Stores a test armed with a crash point that has not fired yet. */
  const armed = new Set<AppName>();
  /** Ends the clients a test started, if it failed before they could end on their own. */
  let stopClients = (): void => undefined;

  // What a failed test leaves behind must not fail the next one: an armed or dead app, the bus
  // down, clients still registering.
  afterEach(async () => {
    stopClients();
    if (!stack) return;
    if (!bus.isRunning) await bus.restart();
    for (const app of APPS) {
      if (armed.has(app) && stack.app(app).isRunning) await stack.app(app).stop('SIGTERM');
      if (!stack.app(app).isRunning) await stack.startApp(app);
    }
    armed.clear();
  }, 60_000);

  afterAll(async () => {
    await stack?.close();
    await bus?.close();
    await pgQuery(`DROP DATABASE IF EXISTS "${systemDb}" WITH (FORCE)`);
  });

  const system = <R extends Record<string, unknown>>(sql: string, params: unknown[] = []) =>
    pgQuery<R>(sql, params, systemDb);
  const register = (name: string, key: string) => registerDevice(stack, tenant, name, key);
  const get = (path: string) => stack.request({ method: 'GET', path, tenant: tenant.slug, apiKey: tenant.apiKey });
  const stepState = async (sagaId: string, step: string) =>
    (
      await system<{ state: string }>('SELECT state FROM saga_steps WHERE saga_id = $1 AND step = $2', [sagaId, step])
    )[0]?.state;

  const holdings = (ids: readonly string[]) => deviceHoldings(stack, tenant.slug, ids);

  it('saga - each participant SIGKILLed inside its compensation, after its undo committed and before it answered: restarted (new pids), the saga ends COMPENSATED, the key answers the same 409 across a gateway restart, and no store keeps any part of the device', async () => {
    const key = `undo-${uniqueToken(8)}`;
    const name = `undo-${uniqueToken(6)}`;
    // The ids the gateway derives from the Idempotency-Key and the tenant's immutable id
    // (device-registration.service.ts).
    const [{ id: tenantId }] = (await system<{ id: string }>('SELECT id FROM tenants WHERE slug = $1', [
      tenant.slug,
    ])) as [{ id: string }];
    const sagaId = uuidFrom(`device-registration:saga:${tenantId}:${key}`, sha256);
    const deviceId = uuidFrom(`device-registration:device:${tenantId}:${key}`, sha256);
    // A business failure in the last step, after the three compensable steps acted: the reliable
    // store's fence holds a compensated marker for `activate` (what a compensation that overtook
    // its action leaves), so the action is refused with STEP_ALREADY_COMPENSATED (a conflict).
    await stack.tenantSql(
      tenant.slug,
      'reliable',
      `INSERT INTO idempotency_keys (idem_key, request_hash, state, result, created_at, expires_at)
       VALUES (?, ?, 'compensated', NULL, ?, ?)`,
      [sagaStepKey(sagaId, 'activate'), sha256(sagaStepKey(sagaId, 'activate')).toString('hex'), new Date(), NO_EXPIRY],
    );
    // Compensation runs in reverse: provision (edge), credential (secure), registry (reliable).
    // Each store is armed to die right after its undo commits, before its reply.
    const crashes = [
      {
        app: 'edge-store',
        step: 'provision',
        point: 'edge.saga.compensate.after-commit',
        undone: async () => (await holdings([deviceId])).edge.get(deviceId) === 'revoked',
      },
      {
        app: 'secure-store',
        step: 'credential',
        point: 'secure.saga.compensate.after-commit',
        undone: async () => !(await holdings([deviceId])).credentials.has(deviceId),
      },
      {
        app: 'reliable-store',
        step: 'registry',
        point: 'reliable.saga.compensate.after-commit',
        undone: async () => !(await holdings([deviceId])).registry.has(deviceId),
      },
    ] as const;
    await Promise.all(
      crashes.map(async ({ app, point }) => {
        armed.add(app);
        await stack.app(app).stop('SIGTERM');
        await stack.startApp(app, { CRASH_POINTS: point });
      }),
    );

    const expectRefused = (answer: HttpResponse<any>) =>
      expect({ status: answer.status, code: answer.body.code, sagaId: answer.body.sagaId }).toEqual({
        status: 409,
        code: 'STEP_ALREADY_COMPENSATED',
        sagaId,
      });
    // The answer comes as soon as the saga failed; its compensation goes on in the background.
    expectRefused(await register(name, key));

    for (const { app, step, point, undone } of crashes) {
      const dying = stack.app(app);
      await eventually(() => !dying.isRunning, { timeoutMs: 30_000, what: `${app} killed at ${point}` });
      expect(dying.output).toContain(`"crashPoint":"${point}"`);
      armed.delete(app);
      // Killed between its commit and its reply: the store's undo is durable, the log still waits.
      expect(await undone()).toBe(true);
      expect(await stepState(sagaId, step)).toBe('COMPENSATING');
      const restarted = await stack.startApp(app);
      expect(restarted.child.pid).not.toBe(dying.child.pid);
    }

    const saga = await eventually(
      async () => {
        const answer = await get(`/v1/sagas/${sagaId}`);
        return ['SUCCEEDED', 'COMPENSATED', 'FAILED', 'COMPENSATION_FAILED'].includes(answer.body.state)
          ? answer.body
          : false;
      },
      { timeoutMs: 45_000, what: `saga ${sagaId} terminal` },
    );
    expect(saga.state).toBe('COMPENSATED');
    expect(saga.error).toMatchObject({ step: 'activate', code: 'STEP_ALREADY_COMPENSATED' });
    const steps = Object.fromEntries(
      saga.steps.map((s: { step: string; state: string; compensationAttempts: number }) => [
        s.step,
        { state: s.state, compensationAttempts: s.compensationAttempts },
      ]),
    );
    // Each compensation's first attempt went unanswered (its store died) and was sent again.
    for (const { step } of crashes) {
      expect({ step, state: steps[step].state }).toEqual({ step, state: 'COMPENSATED' });
      expect(steps[step].compensationAttempts).toBeGreaterThanOrEqual(2);
    }
    // No half-registered device: no registry row, no secure credential, no usable edge credential.
    const held = await holdings([deviceId]);
    expect({
      registry: held.registry.get(deviceId) ?? null,
      credential: held.credentials.has(deviceId),
      edge: held.edge.get(deviceId) ?? null,
    }).toEqual({ registry: null, credential: false, edge: 'revoked' });
    expect((await get(`/v1/devices/${deviceId}`)).status).toBe(404);

    // The key's answer is final: the same 409, again and across a gateway restart.
    expectRefused(await register(name, key));
    const gateway = stack.app('gateway');
    await gateway.stop('SIGKILL');
    expect((await stack.startApp('gateway')).child.pid).not.toBe(gateway.child.pid);
    expectRefused(await register(name, key));
    // The restarted stores work: a new key registers the same name.
    expect((await register(name, `${key}-new`)).status).toBe(201);
  }, 120_000);

  it('saga - the edge store SIGKILLed in a credential rotation after its commit, before the broker revoked the old credential: the device stays connected with it until the restarted store (new pid) gets the resend, which revokes it (connection closed, reconnect refused); the secure store records generation 2; the key answers 201 with the new credential', async () => {
    const registered = await register(`rotor-${uniqueToken(6)}`, `reg-${uniqueToken(8)}`);
    expect(registered.status).toBe(201);
    const { id, token } = registered.body as { id: string; token: string };
    const broker = stack.broker as PrivateBroker;
    const connect = (password: string) =>
      mqtt.connectAsync(broker.mqttUrl, {
        username: id,
        password,
        clientId: `rotor-${uniqueToken(8)}`,
        reconnectPeriod: 0,
      });
    const device = await connect(token);
    let closed = false;
    device.once('close', () => (closed = true));
    try {
      const edge = stack.app('edge-store');
      armed.add('edge-store');
      await edge.stop('SIGTERM');
      await stack.startApp('edge-store', { CRASH_POINTS: 'edge.saga.rotate.after-commit' });
      const dying = stack.app('edge-store');
      const key = { 'idempotency-key': `rotate-${uniqueToken(8)}` };
      const rotate = () =>
        stack.request({
          method: 'POST',
          path: `/v1/devices/${id}/credentials`,
          headers: key,
          tenant: tenant.slug,
          apiKey: tenant.apiKey,
        });
      const first = rotate();
      await eventually(() => !dying.isRunning, { timeoutMs: 30_000, what: 'edge store killed after its commit' });
      expect(dying.output).toContain('"crashPoint":"edge.saga.rotate.after-commit"');
      armed.delete('edge-store');
      // Committed, not revoked: the edge store's database has generation 2, the broker still takes 1.
      const edgeRow = await stack.tenantSql<{ generation: number }>(
        tenant.slug,
        'edge',
        'SELECT generation FROM device_credentials WHERE device_id = $1',
        [id],
      );
      expect(edgeRow).toEqual([{ generation: 2 }]);
      expect(closed).toBe(false);
      expect((await first).status).toBe(202); // the rotation waits for the edge store

      const restarted = await stack.startApp('edge-store');
      expect(restarted.child.pid).not.toBe(dying.child.pid);
      // The resend is a duplicate at the edge store: it revokes generation 1 at the broker.
      await eventually(() => closed, { timeoutMs: 30_000, what: 'the old credential disconnected' });
      await expect(connect(token)).rejects.toThrow(/Not authorized/);
      const answer = await eventually(
        async () => {
          const res = await rotate();
          return res.status === 201 ? res : false;
        },
        { timeoutMs: 30_000, what: 'the rotation answered 201' },
      );
      expect(answer.body).toMatchObject({ id, generation: 2, token: expect.any(String) });
      const fresh = await connect(answer.body.token as string);
      await fresh.endAsync();
      expect(await credentialGenerations(stack, tenant, id)).toEqual([
        [2, true],
        [1, false],
      ]);
    } finally {
      await device.endAsync(true).catch(() => undefined);
    }
  }, 120_000);

  it('saga - the bus (NATS) SIGKILLed while registrations are in flight, restarted on its port with its JetStream store: every key gets 201 with one device, all active in the three stores, none compensated, no app restarted', async () => {
    const run = uniqueToken(6);
    const pids = APPS.map((app) => stack.app(app).child.pid);
    let restartedAt = Number.POSITIVE_INFINITY;
    let completed = 0;
    stopClients = () => {
      if (restartedAt === Number.POSITIVE_INFINITY) restartedAt = 0;
    };
    // Each client registers one device after another, until 2 s after the bus is back.
    const clients = Array.from({ length: 6 }, async (_, c) => {
      const results: ClientRegistration[] = [];
      for (let i = 0; Date.now() < restartedAt + 2_000; i++) {
        results.push(
          await registerUntilFinal(register, `${run}-c${c}-${i}`, `${run}-c${c}-${i}`, () => restartedAt + 45_000),
        );
        completed++;
      }
      return results;
    });
    await eventually(() => completed >= 12, { timeoutMs: 30_000, what: 'a first 12 registrations' });
    await eventually(
      async () =>
        (
          await system<{ n: string }>(
            `SELECT count(*)::text AS n FROM sagas WHERE state = 'RUNNING' AND input->>'name' LIKE $1`,
            [`${run}-%`],
          )
        )[0]!.n !== '0',
      { what: 'registrations in flight' },
    );
    const busPid = bus.pid;
    await bus.kill();
    try {
      // The outage lasts until sagas felt it: a step attempt that got no answer.
      await eventually(
        async () =>
          (
            await system<{ n: string }>(
              `SELECT count(*)::text AS n FROM saga_steps st JOIN sagas s ON s.id = st.saga_id
               WHERE st.unknown_since IS NOT NULL AND s.input->>'name' LIKE $1`,
              [`${run}-%`],
            )
          )[0]!.n !== '0',
        { timeoutMs: 20_000, what: 'a saga step left unanswered by the bus outage' },
      );
    } finally {
      await bus.restart();
      restartedAt = Date.now();
    }
    expect(bus.pid).not.toBe(busPid);
    const results = (await Promise.all(clients)).flat();

    // Unavailable is not failed: no app crashed or restarted, every key has its device.
    expect(APPS.map((app) => stack.app(app).child.pid)).toEqual(pids);
    expect(APPS.filter((app) => !stack.app(app).isRunning)).toEqual([]);
    const notCreated = results.filter((r) => r.answer?.status !== 201).map((r) => ({ key: r.key, seen: r.seen }));
    expect(notCreated).toEqual([]);
    expect(results.length).toBeGreaterThan(12);
    const ids = results.map((r) => r.answer!.body.id as string);
    expect(new Set(ids).size).toBe(results.length);
    // The key answers the same device again (every key that had to wait, and a sample of the others).
    for (const r of results.filter((r, i) => r.seen.length > 1 || i < 10)) {
      const again = await register(r.name, r.key);
      expect({ key: r.key, status: again.status, id: again.body.id }).toEqual({
        key: r.key,
        status: 201,
        id: r.answer!.body.id,
      });
    }
    // All active in the three stores, and the registry holds exactly one device per key.
    const held = await holdings(ids);
    const incomplete = ids.filter(
      (id) => held.registry.get(id) !== 'active' || !held.credentials.has(id) || held.edge.get(id) !== 'active',
    );
    expect(incomplete).toEqual([]);
    const registry = await stack.tenantSql<{ n: number }>(
      tenant.slug,
      'reliable',
      "SELECT count(*) AS n FROM devices WHERE name LIKE CONCAT(?, '-%')",
      [run],
    );
    expect(Number(registry[0]!.n)).toBe(ids.length);
    // A bus outage undid nothing: every saga of the run succeeded.
    const states = await system<{ state: string; n: string }>(
      `SELECT state, count(*)::text AS n FROM sagas WHERE input->>'name' LIKE $1 GROUP BY state`,
      [`${run}-%`],
    );
    expect(states).toEqual([{ state: 'SUCCEEDED', n: String(ids.length) }]);
    // The JetStream store survived the crash: the registry's outbox drains to it again.
    await eventually(
      async () =>
        Number(
          (
            await stack.tenantSql<{ n: number }>(
              tenant.slug,
              'reliable',
              'SELECT count(*) AS n FROM outbox WHERE published_at IS NULL',
            )
          )[0]!.n,
        ) === 0,
      { timeoutMs: 30_000, what: 'the outbox published after the bus restart' },
    );
  }, 120_000);
});
