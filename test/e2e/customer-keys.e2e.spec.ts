import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { deriveKey, hmacSha256, open, seal } from '#polystore/platform';
import { uniqueToken } from '../support/ids.js';
import { pgQuery } from '../support/pg.js';
import { TestServices } from '../support/services.js';
import { TEST_MASTER_KEY, TestStack, type TestTenant } from '../support/stack.js';
import { runCli, type CliResult } from '../support/cli.js';

/** A second master key version (base64 of 32 bytes), used by this suite only. */
const V2 = Buffer.alloc(32, 13).toString('base64');
const V1 = TEST_MASTER_KEY;
const BOTH = `v2:${V2},v1:${V1}`;

/**
 * The key hierarchy as the tests see it from outside, written again here from the documented
 * formats (docs/security.md) with the platform's primitives only, so the suite checks the
 * format rather than reusing the store's code: master key version -> tenant data key -> subkeys
 * -> customer key.
 */
const hierarchy = {
  /**
   * The data key of the tenant labelled `label` (its catalog `key_label`: what its keys are bound
   * to, never the slug), unwrapped from its `tenant_keys` row with `masterKey` (base64).
   */
  dataKey(label: string, row: { wrapped_key: Buffer; kek_version: number }, masterKey: string): Buffer {
    const kek = deriveKey(Buffer.from(masterKey, 'base64'), 'polystore/secure/kek');
    const aad = row.kek_version === 1 ? `tenant-key:${label}:1` : `tenant-key:${label}:1:v${row.kek_version}`;
    return open(kek, row.wrapped_key, aad);
  },
  subkeys: (dataKey: Buffer) => ({
    fields: deriveKey(dataKey, 'customer-fields'),
    customerKeys: deriveKey(dataKey, 'customer-keys'),
    emailIndex: deriveKey(dataKey, 'email-blind-index'),
    audit: deriveKey(dataKey, 'audit-chain'),
  }),
  customerKeyAad: (label: string, id: string) => `customer-key:${label}:${id}:1`,
  fieldAad: (label: string, id: string, field: string) => `${label}:customers:${id}:${field}`,
};

/** Every byte a row holds, as a backup or a replica would have it. */
interface CustomerCopy {
  id: string;
  name_ct: Buffer;
  email_ct: Buffer;
  key_scheme: number;
  customer_key: Buffer | null;
}

/**
 * Crypto-shredding and the master key rewrap against real processes (secure store, gateway, the
 * CLI) on the real PostgreSQL, with a system database of the suite's own (so `keys rotate` sees
 * only this suite's tenants): an erased customer's ciphertext, copied out of the database before
 * the erasure, opens with no key the system still holds while its neighbour reads on; a row sealed
 * the old way reads and gets a key of its own; tenants created under v1 are rewrapped to v2 while
 * they are read, read with v2 alone after a restart, and a second rotation has nothing to do.
 */
describe('customer keys and master key rotation (e2e, real processes)', () => {
  const systemDb = `ps_sys_e2e_${uniqueToken(8)}`;
  let stack: TestStack;
  let inSchema: TestTenant;
  let inDatabase: TestTenant;
  let bob: { id: string; body: unknown };
  let legacyId: string;

  const call = (t: TestTenant, method: string, path: string, body?: unknown) =>
    stack.request({ method, path, body, tenant: t.slug, apiKey: t.apiKey });

  const createCustomer = async (t: TestTenant, name: string, email: string) => {
    const created = await call(t, 'POST', '/v1/customers', { name, email, phone: '+1 555 0100' });
    expect(created.status).toBe(201);
    return { id: created.body.id as string, body: created.body as unknown };
  };

  /** The tenant's key label in this suite's catalog. */
  const keyLabelOf = async (t: TestTenant) =>
    (await pgQuery<{ key_label: string }>('SELECT key_label FROM tenants WHERE slug = $1', [t.slug], systemDb))[0]!
      .key_label;
  const tenantKeyRow = async (t: TestTenant) =>
    (
      await stack.tenantSql<{ wrapped_key: Buffer; kek_version: number }>(
        t.slug,
        'secure',
        'SELECT wrapped_key, kek_version FROM tenant_keys',
      )
    )[0]!;

  const copyOf = async (t: TestTenant, id: string) =>
    (
      await stack.tenantSql<CustomerCopy>(
        t.slug,
        'secure',
        `SELECT c.id, c.name_ct, c.email_ct, c.key_scheme, k.wrapped_key AS customer_key
           FROM customers c LEFT JOIN customer_keys k ON k.customer_id = c.id WHERE c.id = $1`,
        [id],
      )
    )[0];

  /** Runs the built CLI against this stack (its own system database) with `masterKey`. */
  function cli(masterKey: string, ...args: string[]): Promise<CliResult> {
    return runCli(args, {
      ...stack.env('gateway'),
      INSTANCE_ID: `cli-${uniqueToken(4)}`,
      LOG_LEVEL: 'warn',
      MASTER_KEY: masterKey,
    });
  }

  async function restartSecureStore(masterKey: string): Promise<void> {
    await stack.app('secure-store').stop();
    await stack.startApp('secure-store', { MASTER_KEY: masterKey });
  }

  beforeAll(async () => {
    const systemUrl = new URL(TestServices.systemDbUrl);
    systemUrl.pathname = `/${systemDb}`;
    stack = await TestStack.start({ apps: ['secure-store', 'gateway'], env: { SYSTEM_DB_URL: systemUrl.toString() } });
    inSchema = await stack.createTenant('cks');
    inDatabase = await stack.createTenant('ckd', [{ store: 'secure', kind: 'database' }]);
  }, 120_000);

  afterAll(async () => {
    await stack?.close();
    await pgQuery(`DROP DATABASE IF EXISTS "${systemDb}" WITH (FORCE)`);
  }, 120_000);

  it("erasure - an erased customer's ciphertext copied before the erasure opens with no key the system holds; the neighbour still reads; the audit keeps the erasure, not the data", async () => {
    const alice = await createCustomer(inSchema, 'Alice Shredded', 'alice@shred.example');
    bob = await createCustomer(inSchema, 'Bob Neighbour', 'bob@shred.example');

    // The copy a backup or a replica would hold, and proof that this suite's own decryption works on it.
    const copy = (await copyOf(inSchema, alice.id))!;
    expect(copy.key_scheme).toBe(2);
    const label = await keyLabelOf(inSchema);
    expect(label).not.toBe(inSchema.slug); // a new tenant's data is bound to its id, never its slug
    const keys = hierarchy.subkeys(hierarchy.dataKey(label, await tenantKeyRow(inSchema), V1));
    const aliceKey = open(keys.customerKeys, copy.customer_key!, hierarchy.customerKeyAad(label, alice.id));
    expect(open(aliceKey, copy.name_ct, hierarchy.fieldAad(label, alice.id, 'name')).toString()).toBe('Alice Shredded');

    expect((await call(inSchema, 'DELETE', `/v1/customers/${alice.id}`)).status).toBe(204);

    expect(await copyOf(inSchema, alice.id)).toBeUndefined();
    const remaining = await stack.tenantSql<{ customer_id: string; wrapped_key: Buffer }>(
      inSchema.slug,
      'secure',
      'SELECT customer_id, wrapped_key FROM customer_keys',
    );
    expect(remaining.map((r) => r.customer_id)).toEqual([bob.id]);
    // Every key the system still holds for this tenant: the data key, each subkey, each customer key left.
    const dataKey = hierarchy.dataKey(label, await tenantKeyRow(inSchema), V1);
    const candidates = [
      dataKey,
      ...Object.values(hierarchy.subkeys(dataKey)),
      ...remaining.map((r) => open(keys.customerKeys, r.wrapped_key, hierarchy.customerKeyAad(label, r.customer_id))),
    ];
    expect(candidates).toHaveLength(6);
    for (const key of candidates)
      for (const [field, sealed] of [
        ['name', copy.name_ct],
        ['email', copy.email_ct],
      ] as const)
        expect(() => open(key, sealed, hierarchy.fieldAad(label, alice.id, field))).toThrow();

    const neighbour = await call(inSchema, 'GET', `/v1/customers/${bob.id}`);
    expect(neighbour.status).toBe(200);
    expect(neighbour.body).toEqual(bob.body);
    expect((await call(inSchema, 'GET', `/v1/customers/${alice.id}`)).status).toBe(404);

    const audit = await call(inSchema, 'GET', '/v1/audit');
    const erasure = (audit.body.items as Array<{ action: string; subjectId: string; outcome: string }>).filter(
      (e) => e.subjectId === alice.id && e.action === 'customer.delete',
    );
    expect(erasure.map((e) => e.outcome)).toEqual(['ok']);
    expect(audit.text).not.toMatch(/Alice|alice@shred/);
  }, 60_000);

  it('legacy rows - a customer sealed with the tenant field key (before customer keys) reads, and keys upgrade-customers gives it a key of its own once', async () => {
    const label = await keyLabelOf(inDatabase);
    const keys = hierarchy.subkeys(hierarchy.dataKey(label, await tenantKeyRow(inDatabase), V1));
    legacyId = randomUUID();
    const aad = (field: string) => hierarchy.fieldAad(label, legacyId, field);
    // As the secure store wrote rows before this change: no key_scheme (the default, 1), no key row.
    await stack.tenantSql(
      inDatabase.slug,
      'secure',
      'INSERT INTO customers (id, name_ct, email_ct, phone_ct, email_bidx, key_id) VALUES ($1, $2, $3, NULL, $4, 1)',
      [
        legacyId,
        seal(keys.fields, 'Lea Legacy', aad('name')),
        seal(keys.fields, 'lea@legacy.example', aad('email')),
        hmacSha256(keys.emailIndex, 'lea@legacy.example'),
      ],
    );
    const before = await call(inDatabase, 'GET', `/v1/customers/${legacyId}`);
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({ name: 'Lea Legacy', email: 'lea@legacy.example', phone: null });
    expect((await copyOf(inDatabase, legacyId))!.key_scheme).toBe(1);

    const upgrade = await cli(V1, 'keys', 'upgrade-customers', '--json');
    expect(upgrade).toMatchObject({ code: 0 });
    expect(JSON.parse(upgrade.stdout)).toMatchObject({ ok: 2, failed: 0, upgraded: 1, remaining: 0 });

    const copy = (await copyOf(inDatabase, legacyId))!;
    expect(copy.key_scheme).toBe(2);
    expect(copy.customer_key).not.toBeNull();
    expect(() => open(keys.fields, copy.name_ct, aad('name'))).toThrow();
    expect((await call(inDatabase, 'GET', `/v1/customers/${legacyId}`)).body).toEqual(before.body);

    const again = await cli(V1, 'keys', 'upgrade-customers', '--json');
    expect(JSON.parse(again.stdout)).toMatchObject({ ok: 2, failed: 0, upgraded: 0, remaining: 0 });
  }, 60_000);

  it('keys rotate - tenants created under v1 are rewrapped to v2 while they are read, read with v2 alone after a restart (create, read, search), and a second run rewraps 0', async () => {
    await restartSecureStore(BOTH);

    // Readers keep going for the whole rotation: the store serves throughout.
    let rotating = true;
    const statuses: number[] = [];
    const readers = [
      [inSchema, bob.id],
      [inDatabase, legacyId],
    ].map(async ([t, id]) => {
      do statuses.push((await call(t as TestTenant, 'GET', `/v1/customers/${id as string}`)).status);
      while (rotating);
    });
    const rotated = await cli(BOTH, 'keys', 'rotate', '--json').finally(() => (rotating = false));
    await Promise.all(readers);
    expect(rotated).toMatchObject({ code: 0 });
    expect(JSON.parse(rotated.stdout)).toMatchObject({
      ok: 2,
      failed: 0,
      kekVersion: 2,
      rewrapped: 2,
      alreadyCurrent: 0,
    });
    expect(rotated.stderr).toContain('keys rotate: 2/2 done');
    expect(statuses.length).toBeGreaterThanOrEqual(2);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    for (const t of [inSchema, inDatabase]) expect((await tenantKeyRow(t)).kek_version).toBe(2);

    const second = await cli(BOTH, 'keys', 'rotate');
    expect(second).toMatchObject({ code: 0 });
    expect(second.stdout).toContain('0 tenant key(s) rewrapped to master key v2, 2 already current');

    await restartSecureStore(`v2:${V2}`);
    expect((await call(inSchema, 'GET', `/v1/customers/${bob.id}`)).body).toEqual(bob.body);
    expect((await call(inDatabase, 'GET', `/v1/customers/${legacyId}`)).status).toBe(200);
    const found = await call(inSchema, 'POST', '/v1/customers/search', { email: 'BOB@shred.example' });
    expect(found.body.items.map((c: { id: string }) => c.id)).toEqual([bob.id]);
    const carol = await createCustomer(inDatabase, 'Carol After', 'carol@after.example');
    expect((await call(inDatabase, 'GET', `/v1/customers/${carol.id}`)).body).toEqual(carol.body);
  }, 120_000);
});
