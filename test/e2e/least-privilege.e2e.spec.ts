import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { storeKeyOf } from '#polystore/catalog';
import { TestServices } from '../support/services.js';
import { TEST_MASTER_KEY, TestStack, type TestTenant } from '../support/stack.js';

/**
 * Each app holds only its own secrets: the edge store (internet-facing) and the reliable store
 * get their store key, never the master key; the edge store's database role reads nothing of the
 * secure store's. On the real servers, with the real processes.
 */
describe('least privilege - the edge store holds no key that decrypts PII, and its role reads no secure table (e2e)', () => {
  let stack: TestStack;
  let tenant: TestTenant;
  const master = Buffer.from(TEST_MASTER_KEY, 'base64');

  beforeAll(async () => {
    stack = await TestStack.start({ apps: ['secure-store', 'edge-store', 'gateway'] });
    tenant = await stack.createTenant('least');
    const created = await stack.request({
      method: 'POST',
      path: '/v1/customers',
      body: { name: 'Grace Secret', email: 'grace.secret@example.com' },
      tenant: tenant.slug,
      apiKey: tenant.apiKey,
    });
    expect(created.status).toBe(201);
  }, 90_000);

  afterAll(async () => {
    await stack?.close();
  });

  /** The environment of a running process, as the kernel holds it. */
  const environmentOf = (pid: number): Record<string, string> =>
    Object.fromEntries(
      readFileSync(`/proc/${pid}/environ`, 'utf8')
        .split('\0')
        .filter(Boolean)
        .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
    );

  it("least privilege - the edge store's environment holds its own key and no master key, nor another store's key", () => {
    const environment = environmentOf(stack.app('edge-store').child.pid!);
    const values = Object.values(environment).join('\n');
    expect(environment['MASTER_KEY']).toBeUndefined();
    expect(values).not.toContain(TEST_MASTER_KEY);
    expect(values).not.toContain(storeKeyOf(master, 'secure').toString('base64'));
    expect(environment['STORE_KEY']).toBe(storeKeyOf(master, 'edge').toString('base64'));
    // The secure store, which decrypts PII, is the one that holds it.
    expect(environmentOf(stack.app('secure-store').child.pid!)['MASTER_KEY']).toBe(TEST_MASTER_KEY);
  });

  it('least privilege - in production the edge store refuses to start with MASTER_KEY, naming it', async () => {
    const env = stack.env('edge-store', {
      NODE_ENV: 'production',
      MASTER_KEY: TEST_MASTER_KEY,
      INSTANCE_ID: `${stack.prefix}-edge-refused`,
    });
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const child = spawn(process.execPath, [`${root}/dist/apps/edge-store/src/main.js`], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    expect(output).toMatch(/MASTER_KEY.*must not be set/);
    expect(output).not.toContain(TEST_MASTER_KEY);
  });

  it("least privilege - the edge store's database role cannot read the secure store's tables; the secure one can (the test can fail)", async () => {
    const secure = await stack.placement(tenant.slug, 'secure');
    expect(secure.schema).toEqual(expect.stringMatching(/^ps_secure_/));
    const url = new URL(TestServices.postgresUrl);
    const as = async (user: string, sql: string) => {
      const client = new pg.Client({
        host: url.hostname,
        port: Number(url.port || 5432),
        user,
        database: secure.database,
      });
      await client.connect();
      try {
        return await client.query(sql);
      } finally {
        await client.end();
      }
    };
    const schema = `"${secure.schema}"`;
    // The secure store's runtime login, bound to the tenant's role as the store binds it: reads.
    const allowed = await as(
      'ps_secure_runtime',
      `BEGIN; SET LOCAL ROLE ${schema}; SELECT count(*)::int AS n FROM ${schema}.customers`,
    );
    expect((allowed as unknown as pg.QueryResult[])[2]!.rows[0]).toEqual({ n: 1 });
    // The edge store's: neither the table, nor the tenant's role.
    await expect(as('ps_edge_runtime', `SELECT count(*) FROM ${schema}.customers`)).rejects.toMatchObject({
      code: '42501',
    });
    await expect(as('ps_edge_runtime', `SET ROLE ${schema}`)).rejects.toMatchObject({ code: '42501' });
    await expect(as('ps_edge_runtime', `SELECT count(*) FROM ${schema}.tenant_keys`)).rejects.toMatchObject({
      code: '42501',
    });
    await expect(as('ps_edge_runtime', 'SET ROLE ps_secure_batch')).rejects.toMatchObject({ code: '42501' });
    // The secure store's batch role (its audit appends across tenants): the chain head, nothing else.
    for (const table of ['customers', 'tenant_keys', 'audit_entries']) {
      await expect(
        as('ps_secure_runtime', `BEGIN; SET LOCAL ROLE ps_secure_batch; SELECT count(*) FROM ${schema}.${table}`),
      ).rejects.toMatchObject({ code: '42501' });
    }
    const head = await as(
      'ps_secure_runtime',
      `BEGIN; SET LOCAL ROLE ps_secure_batch; SELECT seq::int AS seq FROM ${schema}.audit_head`,
    );
    expect((head as unknown as pg.QueryResult[])[2]!.rows[0]).toEqual({ seq: expect.any(Number) });
  });
});
