import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { credentialGenerations, deviceHoldings } from '../support/device-registrations.js';
import { eventually } from '../support/eventually.js';
import { httpRequest } from '../support/http.js';
import { pgQuery } from '../support/pg.js';
import { TEST_ADMIN_TOKEN, TestStack, type TestTenant } from '../support/stack.js';
import { uniqueToken } from '../support/ids.js';
import { TestServices } from '../support/services.js';

const TERMINAL = ['SUCCEEDED', 'COMPENSATED', 'FAILED', 'COMPENSATION_FAILED'];

/** What the three stores hold for some devices of a tenant. */
interface StoreView {
  readonly registry: Map<string, string>; // device id -> status
  readonly credentials: Set<string>; // secure store
  readonly provisioned: Set<string>; // edge store, active credentials
}

/**
 * Device registration, device deletion and customer erasure through the gateway, on the real
 * stores, with the gateway (and a store) killed at named crash points. The suite has its own
 * system database, so no other suite's gateway sweeps its sagas (and it sweeps none of theirs).
 */
describe('sagas - cross-store operations complete or are compensated, and survive crashes (e2e)', () => {
  const systemDb = `ps_sys_e2e_${uniqueToken(8)}`;
  let stack: TestStack;
  let tenant: TestTenant;

  beforeAll(async () => {
    const systemUrl = new URL(TestServices.systemDbUrl);
    systemUrl.pathname = `/${systemDb}`;
    stack = await TestStack.start({
      apps: ['secure-store', 'reliable-store', 'edge-store', 'gateway'],
      parallelStart: true,
      env: {
        SYSTEM_DB_URL: systemUrl.toString(),
        SAGA_LEASE_MS: '1500',
        SAGA_SWEEP_INTERVAL_MS: '300',
        // Outages here are meant to outlast an action's window (2 minutes by default:
        // saga-outages.e2e): it only has to close. The compensations' window must also cover a
        // store's restart under load (4 s did not, once, in CI: the edge store's compensation
        // parked while it started). The action window must still cover the reliable store's
        // restart in scenario 17 (after the 5 s timeout of the attempt it died in).
        SAGA_UNKNOWN_OUTCOME_WINDOW_MS: '3000',
        SAGA_COMPENSATION_WINDOW_MS: '10000',
      },
    });
    tenant = await stack.createTenant('sagas');
  }, 90_000);

  afterAll(async () => {
    await stack?.close();
    await pgQuery(`DROP DATABASE IF EXISTS "${systemDb}" WITH (FORCE)`);
  });

  const system = <R extends Record<string, unknown>>(sql: string, params: unknown[] = []) =>
    pgQuery<R>(sql, params, systemDb);
  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}, t = tenant) =>
    stack.request({ method, path, body, headers, tenant: t.slug, apiKey: t.apiKey });
  const register = (name = `meter-${uniqueToken(6)}`, extra: Record<string, unknown> = {}, headers = {}) =>
    call('POST', '/v1/devices', { name, model: 'EM-340', ...extra }, headers);
  const ingest = (token: string) =>
    httpRequest({
      port: stack.app('edge-store').port,
      method: 'POST',
      path: '/ingest',
      headers: { authorization: `Bearer ${token}` },
      body: [{ seq: 1, ts: new Date().toISOString(), metrics: { kwh: 1.5 } }],
    });

  /** The saga started for the device named `name` (names are unique per test). */
  const sagaOfDevice = (name: string) =>
    eventually(
      async () =>
        (
          await system<{ id: string; state: string; device: string }>(
            `SELECT id, state, input->>'deviceId' AS device FROM sagas WHERE name = 'device-registration' AND input->>'name' = $1`,
            [name],
          )
        )[0],
      { what: `a registration saga for ${name}` },
    );
  /**
   * Rotates device `id`'s credential with idempotency `key` while the secure store is killed: 202,
   * `whileDown` checks more, then the secure store comes back as a new process. The saga's id.
   */
  const rotateWhileSecureStoreIsDown = async (
    id: string,
    key: Record<string, string>,
    whileDown: (pending: Awaited<ReturnType<typeof call>>, sagaId: string) => Promise<void> = async () => {},
  ): Promise<string> => {
    const pidBefore = stack.app('secure-store').child.pid;
    await stack.app('secure-store').stop('SIGKILL');
    let sagaId: string;
    try {
      const pending = await call('POST', `/v1/devices/${id}/credentials`, undefined, key);
      expect(pending.status).toBe(202);
      sagaId = pending.body.sagaId as string;
      await whileDown(pending, sagaId);
    } finally {
      await stack.startApp('secure-store');
    }
    expect(stack.app('secure-store').child.pid).not.toBe(pidBefore);
    return sagaId;
  };
  const sagaState = async (id: string) =>
    (await system<{ state: string }>('SELECT state FROM sagas WHERE id = $1', [id]))[0]?.state;
  const waitTerminal = (id: string, timeoutMs = 45_000) =>
    eventually(
      async () => {
        const state = await sagaState(id);
        return state && TERMINAL.includes(state) ? state : false;
      },
      { timeoutMs, what: `saga ${id} terminal` },
    );

  const storeView = async (deviceIds: readonly string[], t = tenant): Promise<StoreView> => {
    const held = await deviceHoldings(stack, t.slug, deviceIds);
    const provisioned = [...held.edge].filter(([, status]) => status === 'active').map(([id]) => id);
    return { registry: held.registry, credentials: held.credentials, provisioned: new Set(provisioned) };
  };
  /** "Consistent": a registered device is in all three stores (active), a compensated one in none. */
  const expectConsistent = (view: StoreView, deviceId: string, state: string) => {
    const held = {
      registry: view.registry.get(deviceId) ?? null,
      credential: view.credentials.has(deviceId),
      provisioned: view.provisioned.has(deviceId),
    };
    if (state === 'SUCCEEDED')
      expect({ deviceId, state, ...held }).toEqual({
        deviceId,
        state,
        registry: 'active',
        credential: true,
        provisioned: true,
      });
    else
      expect({ deviceId, state, ...held }).toEqual({
        deviceId,
        state,
        registry: null,
        credential: false,
        provisioned: false,
      });
  };

  /** An operator's retry or skip with an `Idempotency-Key`. */
  const operator = (action: 'retry' | 'skip', sagaId: string, key: string) =>
    stack.internal({
      method: 'POST',
      path: `/admin/sagas/${sagaId}/${action}`,
      headers: { 'idempotency-key': key },
      apiKey: TEST_ADMIN_TOKEN,
    });

  /** Restarts the gateway once no saga is in flight (an armed crash point must hit the test's own saga). */
  const restartGateway = async (env: Record<string, string> = {}) => {
    await eventually(
      async () =>
        (
          await system<{ n: string }>(
            `SELECT count(*)::text AS n FROM sagas WHERE state IN ('PENDING', 'RUNNING', 'COMPENSATING')`,
          )
        )[0]!.n === '0',
      { timeoutMs: 45_000, what: 'no saga in flight' },
    );
    await stack.app('gateway').stop('SIGKILL');
    await stack.startApp('gateway', env);
  };

  it('saga - device registration: 201 with a token that works once shown; the three stores hold the device', async () => {
    const res = await register('boiler-room');
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      sagaId: expect.any(String),
      token: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/), // a NATS user JWT
    });
    const { id, sagaId, token } = res.body as { id: string; sagaId: string; token: string };

    expectConsistent(await storeView([id]), id, 'SUCCEEDED');
    expect((await ingest(token)).status).toBe(202);
    expect((await call('GET', `/v1/devices/${id}`)).body).toMatchObject({ id, status: 'active', name: 'boiler-room' });

    const saga = await call('GET', `/v1/sagas/${sagaId}`);
    expect(saga.status).toBe(200);
    expect(saga.body).toMatchObject({ id: sagaId, name: 'device-registration', state: 'SUCCEEDED' });
    expect(saga.body.steps.map((s: { step: string; state: string }) => `${s.step}:${s.state}`)).toEqual([
      'registry:SUCCEEDED',
      'credential:SUCCEEDED',
      'provision:SUCCEEDED',
      'activate:SUCCEEDED',
    ]);
    expect(saga.body.token).toBeUndefined(); // shown once, in the 201
    expect(JSON.stringify(saga.body)).not.toContain('boiler-room'); // the input is not echoed
  });

  it('saga - POST /v1/devices/:id/credentials rotates through a saga: generation 2, the old credential refused, the history in the secure store; the same Idempotency-Key is the same rotation; a deletion revokes every generation and keeps the history; 404 for an unknown device', async () => {
    const created = await register('rotor');
    const { id, token } = created.body as { id: string; token: string };
    const key = { 'idempotency-key': `rotate-${uniqueToken(8)}` };
    const rotated = await call('POST', `/v1/devices/${id}/credentials`, undefined, key);
    expect(rotated.status).toBe(201);
    expect(rotated.body).toMatchObject({
      id,
      generation: 2,
      sagaId: expect.any(String),
      token: expect.any(String),
      mqtt: { username: id },
    });
    expect(rotated.body.token).not.toBe(token);
    expect((await ingest(token)).status).toBe(401);
    expect((await ingest(rotated.body.token)).status).toBe(202);

    // The same key joins the same rotation: no third generation, the token not shown again.
    const again = await call('POST', `/v1/devices/${id}/credentials`, undefined, key);
    expect([again.status, again.body]).toEqual([201, { id, generation: 2, sagaId: rotated.body.sagaId }]);
    expect((await ingest(rotated.body.token)).status).toBe(202);
    const saga = await call('GET', `/v1/sagas/${rotated.body.sagaId}`);
    expect(saga.body).toMatchObject({ name: 'device-credential-rotation', state: 'SUCCEEDED' });
    expect(saga.body.steps.map((s: { step: string; state: string }) => `${s.step}:${s.state}`)).toEqual([
      'rotate:SUCCEEDED',
      'record:SUCCEEDED',
    ]);

    // Another rotation (no key): generation 3. The history, newest first, in the secure store.
    const third = await call('POST', `/v1/devices/${id}/credentials`);
    expect([third.status, third.body.generation]).toEqual([201, 3]);
    const history = await call('GET', `/v1/devices/${id}/credentials`);
    expect(history.status).toBe(200);
    const at = expect.stringMatching(/^\d{4}-\d\d-\d\dT/);
    expect(history.body.items).toEqual([
      { generation: 3, issuedAt: at, revokedAt: null },
      { generation: 2, issuedAt: at, revokedAt: at },
      { generation: 1, issuedAt: at, revokedAt: at },
    ]);
    expect(JSON.stringify(history.body)).not.toContain(third.body.token);

    // A deletion revokes every generation; the history stays.
    expect((await call('DELETE', `/v1/devices/${id}`)).status).toBe(204);
    expect((await ingest(third.body.token)).status).toBe(401);
    const after = await call('GET', `/v1/devices/${id}/credentials`);
    expect(
      after.body.items.map((g: { generation: number; revokedAt: string | null }) => [g.generation, g.revokedAt]),
    ).toEqual([
      [3, at],
      [2, at],
      [1, at],
    ]);
    expect((await storeView([id])).credentials.has(id)).toBe(false);

    for (const verb of ['POST', 'GET']) {
      const unknown = await call(verb, `/v1/devices/${randomUUID()}/credentials`);
      expect([unknown.status, unknown.body.code]).toEqual([404, 'DEVICE_NOT_FOUND']);
      expect((await call(verb, '/v1/devices/not-a-uuid/credentials')).status).toBe(400);
    }
  });

  it('saga - a rotation while the secure store is down: 202, the old credential refused at once; when the store is back (a new process) the rotation is recorded and the same key answers 201 with the new credential', async () => {
    const created = await register('rotor-outage');
    const { id, token } = created.body as { id: string; token: string };
    const key = { 'idempotency-key': `rotate-outage-${uniqueToken(8)}` };
    // The registry check answers (reliable store); the rotation waits for the secure store.
    const sagaId = await rotateWhileSecureStoreIsDown(id, key, async (pending, sagaId) => {
      expect(pending.headers.location).toBe(`/v1/sagas/${sagaId}`);
      // The edge store already rotated: the old credential is refused while the record waits.
      expect((await ingest(token)).status).toBe(401);
      const running = await call('GET', `/v1/sagas/${sagaId}`);
      expect(running.body.steps.map((s: { step: string; state: string }) => `${s.step}:${s.state}`)).toEqual([
        'rotate:SUCCEEDED',
        'record:RUNNING',
      ]);
    });
    expect(await waitTerminal(sagaId)).toBe('SUCCEEDED');
    const answer = await call('POST', `/v1/devices/${id}/credentials`, undefined, key);
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({ id, generation: 2, sagaId, token: expect.any(String) });
    expect((await ingest(answer.body.token)).status).toBe(202);
    expect(await credentialGenerations(stack, tenant, id)).toEqual([
      [2, true],
      [1, false],
    ]);
  });

  it("saga - a rotation answered 202, then replaced by a later rotation: the later key shows its token, the first key's 201 shows none (never the later generation's)", async () => {
    const created = await register('rotor-superseded');
    const { id } = created.body as { id: string };
    const first = { 'idempotency-key': `rotate-first-${uniqueToken(8)}` };
    const sagaId = await rotateWhileSecureStoreIsDown(id, first);
    expect(await waitTerminal(sagaId)).toBe('SUCCEEDED');
    // A second rotation (another key) before the first key came back for its answer.
    const later = await call('POST', `/v1/devices/${id}/credentials`, undefined, {
      'idempotency-key': `rotate-later-${uniqueToken(8)}`,
    });
    expect(later.status).toBe(201);
    expect(later.body).toMatchObject({ id, generation: 3, token: expect.any(String) });
    const answer = await call('POST', `/v1/devices/${id}/credentials`, undefined, first);
    expect(answer.status).toBe(201);
    expect(answer.body).toEqual({ id, generation: 2, sagaId });
    expect((await ingest(later.body.token)).status).toBe(202);
    expect(await credentialGenerations(stack, tenant, id)).toEqual([
      [3, true],
      [2, false],
      [1, false],
    ]);
  });

  it('saga - bad input is a 400 naming the field, and starts no saga', async () => {
    const before = await system<{ n: string }>(`SELECT count(*)::text AS n FROM sagas`);
    const res = await call('POST', '/v1/devices', { name: '', model: 'EM-340', customerId: 'nope' });
    expect(res.status).toBe(400);
    expect(res.body.message).toContain('name must be');
    expect(res.body.message).toContain('customerId must be a UUID');
    const badKey = await register('x', {}, { 'idempotency-key': 'spaces are not allowed' });
    expect(badKey.status).toBe(400);
    expect(JSON.stringify(badKey.body)).toContain('Idempotency-Key');
    expect((await system<{ n: string }>(`SELECT count(*)::text AS n FROM sagas`))[0]!.n).toBe(before[0]!.n);
  });

  it('saga - an Idempotency-Key makes a retried registration join the first one (no second device, no second token)', async () => {
    const key = `reg-${uniqueToken(8)}`;
    const first = await register('idem-meter', {}, { 'idempotency-key': key });
    expect(first.status).toBe(201);
    const again = await register('idem-meter', {}, { 'idempotency-key': key });
    expect(again.status).toBe(201);
    expect(again.body).toEqual({ id: first.body.id, sagaId: first.body.sagaId });
    const other = await register('another-name', {}, { 'idempotency-key': key });
    expect(other.status).toBe(409);
  });

  it('tenants - POST /admin/tenants with an Idempotency-Key: a retry joins the same provisioning (201, the API key shown once), another body is 409, a new tenant without the key 409 TENANT_EXISTS', async () => {
    const slug = `e2e-idem-${uniqueToken(6)}`;
    const key = `tenant-${uniqueToken(8)}`;
    const create = (body: Record<string, unknown>, headers: Record<string, string> = { 'idempotency-key': key }) =>
      stack.internal({ method: 'POST', path: '/admin/tenants', body, headers, apiKey: TEST_ADMIN_TOKEN });
    try {
      const first = await create({ slug, name: 'Idempotent Inc' });
      expect(first.status).toBe(201);
      expect(first.body.apiKey).toEqual(expect.any(String));
      const again = await create({ slug, name: 'Idempotent Inc' });
      expect([again.status, again.body]).toEqual([201, { slug }]);
      const other = await create({ slug, name: 'Someone Else' });
      expect([other.status, other.body.code]).toEqual([409, 'IDEMPOTENCY_MISMATCH']);
      const withoutKey = await create({ slug, name: 'Idempotent Inc' }, {});
      expect([withoutKey.status, withoutKey.body.code]).toEqual([409, 'TENANT_EXISTS']);
      const sagas = await system<{ n: string }>(
        `SELECT count(*)::text AS n FROM sagas WHERE name = 'tenant-provisioning' AND tenant = $1`,
        [slug],
      );
      expect(sagas[0]!.n).toBe('1');
      // The key shown first works.
      const listed = await stack.request({
        method: 'GET',
        path: '/v1/devices',
        tenant: slug,
        apiKey: first.body.apiKey,
      });
      expect(listed.status).toBe(200);
    } finally {
      await stack.admin('DELETE', `/admin/tenants/${slug}`);
    }
  });

  it('tenants - a server password given for a placement is never in the saga log in clear: new sagas seal it, and a gateway start seals what an earlier version left', async () => {
    const slug = `e2e-sealed-${uniqueToken(6)}`;
    const canary = `canary-${uniqueToken(10)}`;
    const server = new URL(TestServices.postgresUrl);
    server.password = canary; // trust auth here: any password logs in, so the tenant works
    const inputOf = async () =>
      (
        await system<{ id: string; input: string }>(
          `SELECT id, input::text AS input FROM sagas WHERE name = 'tenant-provisioning' AND tenant = $1`,
          [slug],
        )
      )[0]!;
    try {
      const created = await stack.internal({
        method: 'POST',
        path: '/admin/tenants',
        body: { slug, name: 'Sealed Inc', placements: [{ store: 'secure', server: server.toString() }] },
        apiKey: TEST_ADMIN_TOKEN,
      });
      expect(created.status).toBe(201);
      const customer = await stack.request({
        method: 'POST',
        path: '/v1/customers',
        body: { name: 'Ada', email: 'ada@example.com' },
        tenant: slug,
        apiKey: created.body.apiKey,
      });
      expect(customer.status).toBe(201);
      const saga = await inputOf();
      expect(saga.input).not.toContain(canary);
      const secure = (JSON.parse(saga.input) as { placements: Array<Record<string, string>> }).placements.find(
        (p) => p.store === 'secure',
      )!;
      expect(new URL(secure.serverUrl!).password).toBe('');
      expect(secure.sealedPassword).toEqual(expect.any(String));

      // What an earlier version wrote: the password in the URL, nothing sealed.
      await system(
        `UPDATE sagas SET input = jsonb_set(input, '{placements}', (
           SELECT jsonb_agg(CASE WHEN p->>'store' = 'secure' THEN (p - 'sealedPassword') || jsonb_build_object('serverUrl', $2::text) ELSE p END)
             FROM jsonb_array_elements(input->'placements') p)) WHERE id = $1`,
        [saga.id, server.toString()],
      );
      expect((await inputOf()).input).toContain(canary);
      await restartGateway();
      await eventually(async () => !(await inputOf()).input.includes(canary), {
        timeoutMs: 20_000,
        what: 'the gateway seals the password left in the saga log',
      });
      const resealed = (JSON.parse((await inputOf()).input) as { placements: Array<Record<string, string>> })
        .placements;
      expect(resealed.find((p) => p.store === 'secure')).toMatchObject({ sealedPassword: expect.any(String) });
      expect(resealed.find((p) => p.store === 'secure')!.sealedPassword).not.toBe(secure.sealedPassword);
    } finally {
      await stack.admin('DELETE', `/admin/tenants/${slug}`);
    }
  });

  it("tenants - a gateway SIGKILLed between the catalog's commit and a database placement's own login: another gateway resumes the provisioning, makes the login, and the tenant is served", async () => {
    const slug = `e2e-ownkill-${uniqueToken(6)}`;
    const crashy = await stack.startReplica('gateway', 'crashy-login', {
      CRASH_POINTS: 'catalog.tenants.create.after-commit',
    });
    const killed = await httpRequest({
      port: crashy.adminPort,
      method: 'POST',
      path: '/admin/tenants',
      host: stack.baseDomain,
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
      body: { slug, name: 'Killed mid-login', placements: [{ store: 'secure', kind: 'database' }] },
    }).then(
      () => 'answered',
      (error: Error) => error.message,
    );
    expect(killed).not.toBe('answered'); // it died before it could answer
    expect((await crashy.waitForExit()).signal).toBe('SIGKILL');
    const placementUrl = async () =>
      (
        await system<{ server_url: string }>(
          `SELECT p.server_url FROM placements p JOIN tenants t ON t.id = p.tenant_id WHERE t.slug = $1 AND p.store = 'secure'`,
          [slug],
        )
      )[0]?.server_url;
    const login = new URL((await placementUrl())!).username;
    expect(login).toMatch(/^ps_secure_[0-9a-f]{32}_login$/);
    // Committed, but the login was never made: the worst moment.
    expect(await pgQuery('SELECT 1 FROM pg_roles WHERE rolname = $1', [login])).toEqual([]);
    try {
      // The surviving gateway takes the saga over once its lease lapses: the retried registration
      // makes the login and database, the stores provision, the tenant is activated.
      await eventually(
        async () =>
          (await system<{ status: string }>('SELECT status FROM tenants WHERE slug = $1', [slug]))[0]?.status ===
          'active',
        { timeoutMs: 45_000, what: 'the tenant activated by the other gateway' },
      );
      const database = login.replace(/_login$/, '');
      expect(
        await pgQuery('SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1', [database]),
      ).toEqual([{ owner: login }]);
      const key = await stack.admin<{ apiKey: string }>('POST', `/admin/tenants/${slug}/api-keys`, { name: 'after' });
      expect(key.status).toBe(201);
      const t: TestTenant = { slug, apiKey: key.body.apiKey };
      const created = await call('POST', '/v1/customers', { name: 'Ada', email: 'ada@example.com' }, {}, t);
      expect(created.status).toBe(201);
      expect((await call('GET', `/v1/customers/${created.body.id as string}`, undefined, {}, t)).status).toBe(200);
    } finally {
      await stack.admin('DELETE', `/admin/tenants/${slug}`);
    }
    expect(await pgQuery('SELECT 1 FROM pg_roles WHERE rolname = $1', [login])).toEqual([]);
  });

  it('saga scenario 13 - the edge store is down longer than the unknown-outcome window, then comes back: the registration compensates and its key answers 409 OPERATION_ABANDONED; scenarios 10 and 11 - meanwhile the device is pending, not listed as active, and cannot be deleted', async () => {
    await stack.app('edge-store').stop('SIGKILL');
    const name = `edge-down-${uniqueToken(6)}`;
    const key = `edge-down-${uniqueToken(8)}`;
    let sagaId: string;
    let device: string;
    try {
      const pending = register(name, {}, { 'idempotency-key': key });
      ({ id: sagaId, device } = await sagaOfDevice(name));
      // Scenario 11: the registry row exists (pending) while the saga runs; it is never served as active.
      await eventually(async () => (await storeView([device])).registry.get(device) === 'pending', {
        what: 'pending registry row',
      });
      const active = await call('GET', '/v1/devices?status=active&limit=100');
      expect(active.body.items.map((d: { id: string }) => d.id)).not.toContain(device);
      expect((await call('GET', `/v1/devices/${device}`)).body.status).toBe('pending');
      // Scenario 10: deleting it while it is being registered is refused by the semantic lock.
      const del = await call('DELETE', `/v1/devices/${device}`);
      expect(del.status).toBe(409);
      expect(del.body.code).toBe('SAGA_CONFLICT');

      // Provisioning keeps failing: the saga compensates (the edge store comes back meanwhile,
      // so the compensation of the step it may have received can run).
      await eventually(async () => (await sagaState(sagaId)) === 'COMPENSATING', {
        timeoutMs: 30_000,
        what: 'COMPENSATING (the window closed)',
      });
      const answer = await pending;
      expect([202, 409]).toContain(answer.status);
    } finally {
      await stack.startApp('edge-store');
    }
    expect(await waitTerminal(sagaId)).toBe('COMPENSATED');
    expectConsistent(await storeView([device]), device, 'COMPENSATED');
    const saga = await call('GET', `/v1/sagas/${sagaId}`);
    expect(saga.body.steps.map((s: { step: string; state: string }) => `${s.step}:${s.state}`)).toEqual([
      'registry:COMPENSATED',
      'credential:COMPENSATED',
      'provision:COMPENSATED',
      'activate:PENDING',
    ]);
    expect(saga.body.error).toMatchObject({ step: 'provision', code: 'STEP_UNANSWERED' });
    const again = await register(name, {}, { 'idempotency-key': key });
    expect([again.status, again.body.code, again.body.sagaId]).toEqual([409, 'OPERATION_ABANDONED', sagaId]);
    // ...and with the edge store back, registrations work again.
    expect((await register()).status).toBe(201);
  });

  it('saga scenario 8 - a compensation that keeps failing parks COMPENSATION_FAILED, the other compensations ran, an operator retry completes it', async () => {
    await stack.app('edge-store').stop('SIGKILL');
    const name = `parked-${uniqueToken(6)}`;
    let sagaId: string;
    let device: string;
    try {
      // Provisioning fails (edge down), and the secure store dies once the credential exists:
      // the credential's compensation cannot reach it.
      const pending = register(name);
      ({ id: sagaId, device } = await sagaOfDevice(name));
      await eventually(async () => (await storeView([device])).credentials.has(device), { what: 'credential issued' });
      await stack.app('secure-store').stop('SIGKILL');
      await eventually(async () => (await sagaState(sagaId)) === 'COMPENSATING', {
        timeoutMs: 30_000,
        what: 'COMPENSATING (the window closed)',
      });
      await stack.startApp('edge-store');
      await pending;
      expect(await waitTerminal(sagaId, 60_000)).toBe('COMPENSATION_FAILED');
      const parked = await stack.admin('GET', '/admin/sagas?state=COMPENSATION_FAILED');
      expect(parked.status).toBe(200);
      const listed = parked.body.items.find((s: { id: string }) => s.id === sagaId);
      expect(listed.steps.find((s: { step: string }) => s.step === 'credential')).toMatchObject({
        state: 'COMPENSATION_FAILED',
        error: expect.objectContaining({ message: expect.any(String) }),
      });
      // The registry row was still compensated, after the failed one.
      const view = await storeView([device]);
      expect(view.registry.has(device)).toBe(false);
      expect(view.credentials.has(device)).toBe(true); // left behind, visibly parked
    } finally {
      if (!stack.app('secure-store').isRunning) await stack.startApp('secure-store');
      if (!stack.app('edge-store').isRunning) await stack.startApp('edge-store');
    }
    // The operator's tool sends a key, and repeats the call after a gateway restart: the repeat
    // gets the first call's outcome (not 409 SAGA_NOT_PARKED); the key on a skip is a mismatch.
    const key = `op-${uniqueToken(10)}`;
    const retried = await operator('retry', sagaId, key);
    expect(retried.status).toBe(200);
    expect(await waitTerminal(sagaId)).toBe('COMPENSATED');
    expectConsistent(await storeView([device]), device, 'COMPENSATED');
    const closed = await stack.admin('GET', `/admin/sagas/${sagaId}`);
    await restartGateway();
    const again = await operator('retry', sagaId, key);
    expect([again.status, again.body.state, again.body.updatedAt]).toEqual([200, 'COMPENSATED', closed.body.updatedAt]);
    const skipped = await operator('skip', sagaId, key);
    expect([skipped.status, skipped.body.code]).toEqual([409, 'IDEMPOTENCY_MISMATCH']);
  }, 120_000);

  it('saga - operator API: 404 for an unknown saga, 409 for retrying a finished one, 400 for a bad state filter, admin token required', async () => {
    const done = await register();
    expect((await stack.admin('POST', `/admin/sagas/${randomUUID()}/retry`)).status).toBe(404);
    const finished = await stack.admin('POST', `/admin/sagas/${done.body.sagaId}/retry`);
    expect(finished.status).toBe(409);
    expect(finished.body.code).toEqual(expect.any(String));
    expect((await stack.admin('POST', `/admin/sagas/${done.body.sagaId}/skip`)).status).toBe(409);
    const malformed = await operator('retry', done.body.sagaId, 'not a key!');
    expect(malformed.status).toBe(400);
    expect(JSON.stringify(malformed.body)).toContain('Idempotency-Key');
    // A keyed call that fails stores nothing: the key is still free for another action.
    const key = `op-${uniqueToken(10)}`;
    expect((await operator('retry', done.body.sagaId, key)).body.code).toBe('SAGA_NOT_PARKED');
    expect((await operator('skip', done.body.sagaId, key)).body.code).toBe('SAGA_NOT_PARKED');
    const bad = await stack.admin('GET', '/admin/sagas?state=DONE');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('state');
    const noToken = await stack.internal({ path: '/admin/sagas', apiKey: tenant.apiKey });
    expect(noToken.status).toBe(401);
    // A tenant sees its own sagas only.
    const other = await stack.createTenant('other');
    expect((await call('GET', `/v1/sagas/${done.body.sagaId}`, undefined, {}, other)).status).toBe(404);
  });

  it('saga - device deletion (forward-only): 204; gone from the registry, the secure and the edge store; its token is refused', async () => {
    const created = await register();
    const { id, token } = created.body as { id: string; token: string };
    expect((await ingest(token)).status).toBe(202);
    const del = await call('DELETE', `/v1/devices/${id}`);
    expect(del.status).toBe(204);
    expectConsistent(await storeView([id]), id, 'COMPENSATED'); // held nowhere
    expect((await call('GET', `/v1/devices/${id}`)).status).toBe(404);
    expect((await ingest(token)).status).toBe(401);
    expect((await call('DELETE', `/v1/devices/${id}`)).status).toBe(404);
  });

  it('saga - customer erasure (forward-only): PII deleted, device references anonymized, their telemetry deleted', async () => {
    const customer = await call('POST', '/v1/customers', { name: 'Ada Lovelace', email: 'ada@example.org' });
    expect(customer.status).toBe(201);
    const customerId = customer.body.id as string;
    const owned = await register('ada-meter', { customerId });
    const { id: deviceId, token } = owned.body as { id: string; token: string };
    expect((await ingest(token)).status).toBe(202);
    const readings = () =>
      stack.tenantSql<{ n: string }>(
        tenant.slug,
        'edge',
        'SELECT count(*)::text AS n FROM readings WHERE device_id = $1',
        [deviceId],
      );
    await eventually(async () => (await readings())[0]!.n === '1', { what: 'the reading stored' });

    const erased = await call('DELETE', `/v1/customers/${customerId}`);
    expect(erased.status).toBe(204);
    expect((await call('GET', `/v1/customers/${customerId}`)).status).toBe(404);
    const [device] = await stack.tenantSql<{ customer_id: string | null; status: string }>(
      tenant.slug,
      'reliable',
      'SELECT customer_id, status FROM devices WHERE id = ?',
      [deviceId],
    );
    expect(device).toEqual({ customer_id: null, status: 'active' });
    expect((await readings())[0]!.n).toBe('0');
    // Erasing again: the customer is unknown, nothing else is touched.
    expect((await call('DELETE', `/v1/customers/${customerId}`)).status).toBe(404);
  });

  // Where the armed gateway compensates, the edge store is down until the action's window closed
  // (the suite's short one); at saga.after-compensation the armed gateway itself compensates the
  // edge store's step once the store is back (started meanwhile): the compensations' window
  // covers that restart.
  describe.each([
    ['saga.after-start', 'SUCCEEDED'],
    ['saga.after-step-intent', 'SUCCEEDED'], // scenario 1: logged "dispatching", never sent
    ['saga.after-step-action', 'SUCCEEDED'], // scenario 2: the participant committed, the reply was never logged
    ['saga.after-step-result', 'SUCCEEDED'],
    ['saga.after-compensating', 'COMPENSATED'],
    ['saga.after-compensation-intent', 'COMPENSATED'],
    ['saga.after-compensation', 'COMPENSATED'],
  ])('saga crash point %s', (point, expected) => {
    it(`saga scenarios 1, 2 - the gateway killed at ${point}, restarted: the saga ends ${expected} and the stores agree with the log`, async () => {
      const compensating = expected === 'COMPENSATED';
      const name = `crash-${point.replace(/\W/g, '-')}-${uniqueToken(4)}`;
      await restartGateway({ CRASH_POINTS: point });
      const gateway = stack.app('gateway');
      try {
        // To compensate, provisioning must fail: the edge store is down until compensation begins.
        if (compensating) await stack.app('edge-store').stop('SIGKILL');
        const answer = register(name).catch((error: Error) => error);
        const { id: sagaId, device } = await sagaOfDevice(name);
        if (compensating) {
          await eventually(async () => !gateway.isRunning || (await sagaState(sagaId)) === 'COMPENSATING', {
            timeoutMs: 30_000,
            what: 'COMPENSATING (the window closed)',
          });
          await stack.startApp('edge-store');
        }
        await gateway.waitForExit();
        expect(gateway.output).toContain(`"crashPoint":"${point}"`);
        const reply = await answer;
        // The connection died with the gateway (an error from the http module, not an answer).
        if (!compensating) expect(reply).toEqual(expect.objectContaining({ message: expect.any(String) }));
        if (!compensating) expect(reply).not.toHaveProperty('status');
        expect(TERMINAL).not.toContain(await sagaState(sagaId));
        await stack.startApp('gateway');
        expect(await waitTerminal(sagaId)).toBe(expected);
        expectConsistent(await storeView([device]), device, expected);
      } finally {
        if (!stack.app('edge-store').isRunning) await stack.startApp('edge-store');
        if (!stack.app('gateway').isRunning) await stack.startApp('gateway');
      }
    });
  });

  it('saga scenario 17 - the reliable store killed inside a step transaction: it rolls back, and the retried step applies once', async () => {
    await stack.app('reliable-store').stop('SIGTERM');
    await stack.startApp('reliable-store', { CRASH_POINTS: 'saga.participant.before-commit' });
    const name = `store-crash-${uniqueToken(6)}`;
    const answer = register(name);
    await stack.app('reliable-store').waitForExit();
    expect(stack.app('reliable-store').output).toContain('saga.participant.before-commit');
    const { id: sagaId, device } = await sagaOfDevice(name);
    expect((await storeView([device])).registry.has(device)).toBe(false); // rolled back
    await stack.startApp('reliable-store');
    await answer;
    expect(await waitTerminal(sagaId)).toBe('SUCCEEDED');
    const rows = await stack.tenantSql<{ n: number }>(
      tenant.slug,
      'reliable',
      'SELECT count(*) AS n FROM devices WHERE id = ?',
      [device],
    );
    expect(Number(rows[0]!.n)).toBe(1);
    expectConsistent(await storeView([device]), device, 'SUCCEEDED');
  });

  it('saga scenario 18 - 200 registrations in flight when the gateway is SIGKILLed: after restart all are terminal and the stores agree with the log', async () => {
    const batch = `burst-${uniqueToken(6)}`;
    const requests = Array.from({ length: 200 }, (_, i) => register(`${batch}-${i}`).catch((error: Error) => error));
    const started = () =>
      system<{ n: string }>(`SELECT count(*)::text AS n FROM sagas WHERE input->>'name' LIKE $1`, [`${batch}-%`]);
    await eventually(async () => Number((await started())[0]!.n) >= 60, {
      timeoutMs: 30_000,
      what: '60 sagas started',
    });
    await stack.app('gateway').stop('SIGKILL');
    await Promise.all(requests);
    const inFlight = await system<{ n: string }>(
      `SELECT count(*)::text AS n FROM sagas WHERE input->>'name' LIKE $1 AND state NOT IN ('SUCCEEDED', 'COMPENSATED', 'FAILED', 'COMPENSATION_FAILED')`,
      [`${batch}-%`],
    );
    expect(Number(inFlight[0]!.n)).toBeGreaterThan(0); // the kill really interrupted some

    await stack.startApp('gateway');
    const sagas = await eventually(
      async () => {
        const rows = await system<{ id: string; state: string; device: string }>(
          `SELECT id, state, input->>'deviceId' AS device FROM sagas WHERE input->>'name' LIKE $1`,
          [`${batch}-%`],
        );
        return rows.every((r) => TERMINAL.includes(r.state)) ? rows : false;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'every saga of the burst terminal' },
    );
    const view = await storeView(sagas.map((s) => s.device));
    for (const saga of sagas) {
      expect(['SUCCEEDED', 'COMPENSATED']).toContain(saga.state);
      expectConsistent(view, saga.device, saga.state);
    }
    // Requests that never reached the log left nothing behind either.
    const names = await stack.tenantSql<{ n: number }>(
      tenant.slug,
      'reliable',
      'SELECT count(*) AS n FROM devices WHERE name LIKE ?',
      [`${batch}-%`],
    );
    expect(Number(names[0]!.n)).toBe(sagas.filter((s) => s.state === 'SUCCEEDED').length);
  }, 120_000);
});
