import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually } from '../support/eventually.js';
import { pgQuery } from '../support/pg.js';
import { TestStack, type TestTenant } from '../support/stack.js';
import { dumpTenantData } from '../support/tenant-data.js';

/** Every row of every table of `database`, as text (bytea shows as hex). */
async function dumpDatabase(database: string): Promise<string> {
  const tables = await pgQuery<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
    [],
    database,
  );
  const parts: string[] = [];
  for (const { table_name } of tables) {
    const rows = await pgQuery<{ row: string }>(`SELECT t::text AS row FROM "${table_name}" t`, [], database);
    parts.push(...rows.map((r) => `${table_name}: ${r.row}`));
  }
  return parts.join('\n');
}

describe('secure routes - customers and audit (e2e, real processes)', () => {
  let stack: TestStack;
  let tenant: TestTenant;

  beforeAll(async () => {
    stack = await TestStack.start({ apps: ['secure-store', 'gateway'], env: { LOG_LEVEL: 'debug' } });
    tenant = await stack.createTenant();
  });

  afterAll(async () => {
    await stack?.close();
  });

  const call = (method: string, path: string, body?: unknown, t: TestTenant = tenant) =>
    stack.request({ method, path, body, tenant: t.slug, apiKey: t.apiKey });

  it('customers - create, read, search by email (case-insensitive), delete', async () => {
    const created = await call('POST', '/v1/customers', {
      name: 'Grace Hopper',
      email: 'Grace@Navy.example',
      phone: '+1 555 0100',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Grace Hopper', email: 'Grace@Navy.example', phone: '+1 555 0100' });
    const id = created.body.id as string;

    const read = await call('GET', `/v1/customers/${id}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created.body);

    const found = await call('POST', '/v1/customers/search', { email: 'grace@navy.EXAMPLE' });
    expect(found.status).toBe(200);
    expect(found.body.items.map((c: { id: string }) => c.id)).toEqual([id]);

    const deleted = await call('DELETE', `/v1/customers/${id}`);
    expect(deleted.status).toBe(204);
    expect((await call('GET', `/v1/customers/${id}`)).status).toBe(404);
    expect((await call('DELETE', `/v1/customers/${id}`)).status).toBe(404);
    expect((await call('POST', '/v1/customers/search', { email: 'grace@navy.example' })).body.items).toEqual([]);
  });

  it('audit - every create, read, search and delete is recorded, and the chain verifies', async () => {
    const t = await stack.createTenant('audit');
    const created = await call('POST', '/v1/customers', { name: 'Audited', email: 'audited@example.com' }, t);
    const id = created.body.id as string;
    await call('GET', `/v1/customers/${id}`, undefined, t);
    await call('POST', '/v1/customers/search', { email: 'audited@example.com' }, t);
    await call('DELETE', `/v1/customers/${id}`, undefined, t);
    await call('GET', `/v1/customers/${id}`, undefined, t);

    const audit = await call('GET', '/v1/audit', undefined, t);
    expect(audit.status).toBe(200);
    expect(audit.body.items.map((e: { action: string; outcome: string }) => `${e.action}:${e.outcome}`)).toEqual([
      'customer.create:ok',
      'customer.read:ok',
      'customer.search:ok',
      'customer.delete:ok',
      'customer.read:not_found',
    ]);
    expect(audit.body.items.every((e: { actor: string | null }) => typeof e.actor === 'string')).toBe(true);
    expect(JSON.stringify(audit.body)).not.toContain('audited@example.com');

    const verdict = await call('GET', '/v1/audit/verify?mode=full', undefined, t);
    expect(verdict.body).toMatchObject({ valid: true, checked: 5, firstInvalidSeq: null, reason: null, fromSeq: 1 });
  });

  it('audit - 100 concurrent reads are all audited, in one unbroken chain', async () => {
    const t = await stack.createTenant('burst');
    const id = (await call('POST', '/v1/customers', { name: 'Burst', email: 'burst@example.com' }, t)).body
      .id as string;
    const reads = await Promise.all(
      Array.from({ length: 100 }, () => call('GET', `/v1/customers/${id}`, undefined, t)),
    );
    expect(reads.every((r) => r.status === 200)).toBe(true);
    const verdict = await call('GET', '/v1/audit/verify?mode=full', undefined, t);
    expect(verdict.body).toMatchObject({ valid: true, checked: 101, firstInvalidSeq: null, reason: null });
  });

  it('audit - two secure-store replicas auditing one tenant at once (and a delete in between) keep one unbroken chain', async () => {
    const t = await stack.createTenant('replicas');
    const ids: string[] = [];
    for (const n of [1, 2, 3])
      ids.push((await call('POST', '/v1/customers', { name: `R${n}`, email: `r${n}@example.com` }, t)).body.id);
    const replica = await stack.startReplica('secure-store', 'b');
    try {
      const reads = Array.from({ length: 150 }, (_, i) => call('GET', `/v1/customers/${ids[i % 2]}`, undefined, t));
      const [deleted, ...answers] = await Promise.all([
        call('DELETE', `/v1/customers/${ids[2]}`, undefined, t),
        ...reads,
      ]);
      expect(deleted.status).toBe(204);
      expect(answers.map((r) => r.status)).toEqual(answers.map(() => 200));
      // Both replicas served reads: each holds connections to the store's shared database.
      const instances = await pgQuery<{ name: string }>(
        `SELECT DISTINCT application_name AS name FROM pg_stat_activity WHERE application_name LIKE $1`,
        [`polystore-secure:${stack.prefix}-secure-store%`],
      );
      expect(instances.length).toBe(2);
    } finally {
      await replica.stop('SIGTERM');
    }
    const audit = await call('GET', '/v1/audit?limit=500', undefined, t);
    const actions = (audit.body.items as Array<{ seq: number; action: string }>).map((e) => e.action);
    expect(actions.filter((a) => a === 'customer.read')).toHaveLength(150);
    expect(actions.filter((a) => a === 'customer.delete')).toHaveLength(1);
    const verdict = await call('GET', '/v1/audit/verify?mode=full', undefined, t);
    expect(verdict.body).toMatchObject({ valid: true, checked: 3 + 150 + 1, firstInvalidSeq: null, reason: null });
  });

  describe('audit - verify detects tampering done directly in the database', () => {
    async function tenantWithHistory(): Promise<TestTenant> {
      const t = await stack.createTenant('tamper');
      const id = (await call('POST', '/v1/customers', { name: 'T', email: 't@example.com' }, t)).body.id as string;
      for (let i = 0; i < 3; i++) await call('GET', `/v1/customers/${id}`, undefined, t);
      expect((await call('GET', '/v1/audit/verify', undefined, t)).body.valid).toBe(true);
      return t;
    }

    it('a modified record', async () => {
      const t = await tenantWithHistory();
      await stack.tenantSql(t.slug, 'secure', `UPDATE audit_entries SET outcome = 'not_found' WHERE seq = 2`);
      const verdict = await call('GET', '/v1/audit/verify', undefined, t);
      expect(verdict.body).toMatchObject({ valid: false, firstInvalidSeq: 2, reason: 'record modified' });
    });

    it('a deleted record in the middle', async () => {
      const t = await tenantWithHistory();
      await stack.tenantSql(t.slug, 'secure', `DELETE FROM audit_entries WHERE seq = 2`);
      const verdict = await call('GET', '/v1/audit/verify', undefined, t);
      expect(verdict.body).toMatchObject({ valid: false, firstInvalidSeq: 2, reason: 'record missing' });
    });

    it('a deleted last record', async () => {
      const t = await tenantWithHistory();
      await stack.tenantSql(t.slug, 'secure', `DELETE FROM audit_entries WHERE seq = 4`);
      const verdict = await call('GET', '/v1/audit/verify', undefined, t);
      expect(verdict.body).toMatchObject({ valid: false, reason: 'record missing' });
    });
  });

  describe('bad input gets a 4xx naming the problem, never a 500', () => {
    it.each([
      ['a missing name', { email: 'x@example.com' }, 'name'],
      ['an empty name', { name: '', email: 'x@example.com' }, 'name'],
      ['a name over 200 characters', { name: 'n'.repeat(201), email: 'x@example.com' }, 'name'],
      ['an invalid email', { name: 'N', email: 'not-an-email' }, 'email'],
      ['a numeric email', { name: 'N', email: 42 }, 'email'],
      ['an invalid phone', { name: 'N', email: 'x@example.com', phone: 'call me' }, 'phone'],
      ['an unknown field', { name: 'N', email: 'x@example.com', admin: true }, 'admin'],
    ])('create with %s -> 400 naming the field', async (_label, body, field) => {
      const res = await call('POST', '/v1/customers', body);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(res.body.message).toContain(field);
    });

    it.each([
      ['an array', [1, 2]],
      ['a string', 'hello'],
      ['a number', 7],
      ['null', null],
    ])('create with %s as the body -> 400', async (_label, body) => {
      const res = await stack.request({
        method: 'POST',
        path: '/v1/customers',
        tenant: tenant.slug,
        apiKey: tenant.apiKey,
        rawBody: JSON.stringify(body),
      });
      expect(res.status).toBe(400);
    });

    it('malformed JSON -> 400 MALFORMED_JSON', async () => {
      const res = await stack.request({
        method: 'POST',
        path: '/v1/customers',
        tenant: tenant.slug,
        apiKey: tenant.apiKey,
        rawBody: '{"name": "x",',
      });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('MALFORMED_JSON');
    });

    it('an empty JSON body -> 400', async () => {
      const res = await stack.request({
        method: 'POST',
        path: '/v1/customers',
        tenant: tenant.slug,
        apiKey: tenant.apiKey,
        rawBody: '',
        headers: { 'content-type': 'application/json' },
      });
      expect(res.status).toBe(400);
    });

    it('a body in a format the API does not speak (XML) -> 415', async () => {
      const res = await stack.request({
        method: 'POST',
        path: '/v1/customers',
        tenant: tenant.slug,
        apiKey: tenant.apiKey,
        rawBody: '<customer><name>x</name></customer>',
        headers: { 'content-type': 'application/xml' },
      });
      expect(res.status).toBe(415);
    });

    it('a body over 1 MB -> 413, and nothing was stored', async () => {
      const before = (await call('GET', '/v1/audit')).body.items.length as number;
      const res = await call('POST', '/v1/customers', {
        name: 'Big',
        email: 'big@example.com',
        padding: 'x'.repeat(1_100_000),
      });
      expect(res.status).toBe(413);
      expect(res.body.code).toBe('PAYLOAD_TOO_LARGE');
      expect((await call('GET', '/v1/audit')).body.items.length).toBe(before);
    });

    it('a customer id that is not a UUID -> 400 naming id', async () => {
      const res = await call('GET', '/v1/customers/1%27%20OR%201=1');
      expect(res.status).toBe(400);
      expect(res.body.message).toContain('id');
    });

    it('search without an email -> 400 naming email', async () => {
      const res = await call('POST', '/v1/customers/search', {});
      expect(res.status).toBe(400);
      expect(res.body.message).toContain('email');
    });

    it('audit paging with a bad limit -> 400 naming limit', async () => {
      const res = await call('GET', '/v1/audit?limit=abc');
      expect(res.status).toBe(400);
      expect(res.body.message).toContain('limit');
    });

    it('none of the above produced a 5xx or an error log', () => {
      const errors = [...stack.apps.values()].flatMap((app) =>
        app.records.filter((r) => r['level'] === 'error' || r['level'] === 'fatal'),
      );
      expect(errors).toEqual([]);
      const statuses = stack
        .app('gateway')
        .records.map((r) => (r['res'] as { statusCode?: number } | undefined)?.statusCode ?? 0);
      expect(statuses.filter((s) => s >= 500)).toEqual([]);
    });
  });

  describe('Idempotency-Key on POST /v1/customers', () => {
    const create = (body: unknown, key: string, t: TestTenant = tenant) =>
      stack.request({
        method: 'POST',
        path: '/v1/customers',
        body,
        headers: { 'idempotency-key': key },
        tenant: t.slug,
        apiKey: t.apiKey,
      });
    const customerCount = async () =>
      Number(
        (await stack.tenantSql<{ n: string }>(tenant.slug, 'secure', 'SELECT count(*)::text AS n FROM customers'))[0]!
          .n,
      );
    const body = { name: 'Ada Lovelace', email: 'ada@engine.example', phone: null };

    it('the same key twice (and ten at once) is one customer with the same answer; another body is 409; a bad key is 400', async () => {
      const before = await customerCount();
      const key = `cust-${Date.now()}`;
      const first = await create(body, key);
      expect(first.status).toBe(201);
      const again = await create(body, key);
      expect([again.status, again.body]).toEqual([201, first.body]);
      const racing = await Promise.all(Array.from({ length: 10 }, () => create(body, `${key}-race`)));
      expect(racing.map((r) => r.status)).toEqual(Array(10).fill(201));
      expect(new Set(racing.map((r) => r.body.id)).size).toBe(1);
      expect(await customerCount()).toBe(before + 2);

      const other = await create({ ...body, email: 'someone.else@engine.example' }, key);
      expect([other.status, other.body.code]).toEqual([409, 'IDEMPOTENCY_MISMATCH']);
      const bad = await create(body, 'no spaces allowed');
      expect(bad.status).toBe(400);
      expect(JSON.stringify(bad.body)).toContain('Idempotency-Key');
      expect(await customerCount()).toBe(before + 2);
      // The same key in another tenant is another key.
      const elsewhere = await stack.createTenant('idem');
      const there = await create(body, key, elsewhere);
      expect(there.status).toBe(201);
      expect(there.body.id).not.toBe(first.body.id);
    });

    it('the secure store killed (SIGKILL) after the commit, before the reply: a retry with the key gets the customer that was stored, and no second one', async () => {
      const before = await customerCount();
      const key = `crash-${Date.now()}`;
      await stack.app('secure-store').stop('SIGTERM');
      await stack.startApp('secure-store', { CRASH_POINTS: 'secure.customers.create.after-commit' });
      try {
        const lost = await create(body, key);
        expect(lost.status).toBeGreaterThanOrEqual(500); // no answer: the outcome is unknown to the client
        await stack.app('secure-store').waitForExit();
        expect(stack.app('secure-store').output).toContain('secure.customers.create.after-commit');
      } finally {
        await stack.startApp('secure-store');
      }
      expect(await customerCount()).toBe(before + 1); // it did commit
      const retried = await eventually(
        async () => {
          const answer = await create(body, key);
          return answer.status === 201 ? answer : false;
        },
        { what: 'the retried create answered' },
      );
      expect(await customerCount()).toBe(before + 1);
      expect((await call('GET', `/v1/customers/${retried.body.id}`)).body).toEqual(retried.body);
    });
  });

  it('PII - no name, email or phone in plaintext in any database, log line or URL', async () => {
    const pii = {
      name: 'Zebulon Quixote-Marchetti',
      email: 'zebulon.q.marchetti@pii-check.example',
      phone: '+33 6 12 34 56 78',
    };
    const t = await stack.createTenant('pii');
    // With an Idempotency-Key, so the stored key (and its fingerprint and result) is checked too.
    const idempotencyKey = `pii-${Date.now()}`;
    const created = await stack.request({
      method: 'POST',
      path: '/v1/customers',
      body: pii,
      headers: { 'idempotency-key': idempotencyKey },
      tenant: t.slug,
      apiKey: t.apiKey,
    });
    expect(created.status).toBe(201);
    await call('GET', `/v1/customers/${created.body.id}`, undefined, t);
    await call('POST', '/v1/customers/search', { email: pii.email }, t);

    const needles = [pii.name, pii.email, pii.phone, 'Zebulon', 'marchetti', '12 34 56'];
    const hex = (s: string) => Buffer.from(s, 'utf8').toString('hex');
    // The tenant's own data only: its schema in the shared database (or its own database).
    const tenantDump = (await dumpTenantData(await stack.placement(t.slug, 'secure'))).toLowerCase();
    const catalogDump = (await dumpDatabase('polystore_test_system')).toLowerCase();
    for (const needle of needles) {
      for (const dump of [tenantDump, catalogDump]) {
        expect(dump).not.toContain(needle.toLowerCase());
        expect(dump).not.toContain(hex(needle).toLowerCase());
      }
    }
    // The dump is not vacuous: the customer row is there, sealed, and the idempotency key's row.
    expect(tenantDump).toContain(String(created.body.id));
    expect(tenantDump).toContain(idempotencyKey);

    const logs = [...stack.apps.values()]
      .map((app) => app.output)
      .join('\n')
      .toLowerCase();
    expect(logs.length).toBeGreaterThan(1_000);
    for (const needle of needles) expect(logs).not.toContain(needle.toLowerCase());
    // URLs in the access log are paths only; search is a POST so the email is never in one.
    const paths = stack
      .app('gateway')
      .records.map((r) => String((r['req'] as { path?: string } | undefined)?.path ?? ''));
    expect(paths.some((p) => p.startsWith('/v1/customers'))).toBe(true);
    for (const needle of needles) expect(paths.join('\n').toLowerCase()).not.toContain(needle.toLowerCase());
  });

  it('audit - a read whose data does not decrypt answers an error and is audited as failed, once durable (after the no-5xx check)', async () => {
    const t = await stack.createTenant('failed');
    const id = (await call('POST', '/v1/customers', { name: 'Tampered', email: 'tampered@example.com' }, t)).body
      .id as string;
    // A flipped ciphertext byte: the field no longer authenticates.
    await stack.tenantSql(
      t.slug,
      'secure',
      `UPDATE customers SET name_ct = set_byte(name_ct, 20, get_byte(name_ct, 20) # 1) WHERE id = '${id}'`,
    );
    const read = await call('GET', `/v1/customers/${id}`, undefined, t);
    expect(read.status).toBeGreaterThanOrEqual(500);
    expect(JSON.stringify(read.body)).not.toContain('Tampered');
    const audit = await call('GET', '/v1/audit', undefined, t);
    expect(audit.body.items.map((e: { action: string; outcome: string }) => `${e.action}:${e.outcome}`)).toEqual([
      'customer.create:ok',
      'customer.read:failed',
    ]);
    expect((await call('GET', '/v1/audit/verify', undefined, t)).body.valid).toBe(true);
  });

  describe('audit checkpoints: signed, in the catalog (the secure store restarted to checkpoint every 5 records)', () => {
    const CHECKPOINTS = { AUDIT_CHECKPOINT_EVERY: '5', AUDIT_CHECKPOINT_INTERVAL_MS: '200' };
    /** The tenant's checkpoint seq as the catalog holds it (null: none). */
    const checkpointSeq = async (slug: string): Promise<number | null> => {
      const rows = await pgQuery<{ seq: string }>(
        `SELECT c.seq::text AS seq FROM audit_checkpoints c JOIN tenants t ON t.id = c.tenant_id WHERE t.slug = $1`,
        [slug],
        'polystore_test_system',
      );
      return rows[0] ? Number(rows[0].seq) : null;
    };
    const restartSecureStore = async () => {
      await stack.app('secure-store').stop('SIGTERM');
      await stack.startApp('secure-store', CHECKPOINTS);
    };

    beforeAll(restartSecureStore, 60_000);

    it('checkpoints follow the chain across a restart; verify reads from the last one; a truncated tail is reported with its range', async () => {
      const t = await stack.createTenant('ckpt');
      const id = (await call('POST', '/v1/customers', { name: 'C', email: 'c@example.com' }, t)).body.id as string;
      for (let i = 0; i < 11; i++) expect((await call('GET', `/v1/customers/${id}`, undefined, t)).status).toBe(200);
      // 12 records: a checkpoint at 5, at 10, then at 12 once the interval passed.
      await eventually(async () => (await checkpointSeq(t.slug)) === 12, { what: 'the checkpoint at 12' });
      expect((await call('GET', '/v1/audit/verify', undefined, t)).body).toMatchObject({
        valid: true,
        mode: 'checkpoint',
        fromSeq: 12,
        toSeq: 12,
        checked: 1,
        headSeq: 12,
        checkpoint: { seq: 12, status: 'verified' },
        missing: null,
      });

      await restartSecureStore();
      for (let i = 0; i < 5; i++) await call('GET', `/v1/customers/${id}`, undefined, t);
      await eventually(async () => (await checkpointSeq(t.slug)) === 17, { what: 'the checkpoint at 17' });
      expect((await call('GET', '/v1/audit/verify', undefined, t)).body).toMatchObject({
        valid: true,
        fromSeq: 17,
        checkpoint: { seq: 17, status: 'verified' },
      });

      // The newest three records deleted and the head moved back: the chain alone looks whole.
      await stack.tenantSql(t.slug, 'secure', 'DELETE FROM audit_entries WHERE seq > 14');
      await stack.tenantSql(
        t.slug,
        'secure',
        'UPDATE audit_head SET seq = 14, hash = (SELECT hash FROM audit_entries WHERE seq = 14)',
      );
      for (const mode of ['checkpoint', 'full']) {
        const verdict = await call('GET', `/v1/audit/verify?mode=${mode}`, undefined, t);
        expect(verdict.body).toMatchObject({
          valid: false,
          reason: 'truncated',
          firstInvalidSeq: 15,
          missing: { fromSeq: 15, toSeq: 17 },
          headSeq: 14,
          checkpoint: { seq: 17, status: 'verified' },
        });
      }
      const bad = await call('GET', '/v1/audit/verify?mode=everything', undefined, t);
      expect(bad.status).toBe(400);
      expect(bad.body.message).toContain('mode');
    });
  });
});
