import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { EmbeddedPostgres } from '#polystore/embedded-postgres';

async function query<T>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

describe('EmbeddedPostgres (PGlite behind one wire-protocol port)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ps-embedded-pg-'));
  let server: EmbeddedPostgres;

  beforeAll(async () => {
    server = await EmbeddedPostgres.start({ dataDir });
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves CREATE DATABASE, and each database keeps its own tables', async () => {
    await query(server.url('postgres'), 'CREATE DATABASE alpha');
    await query(server.url('postgres'), 'CREATE DATABASE beta');
    await query(server.url('alpha'), 'CREATE TABLE t (v text)');
    await query(server.url('alpha'), `INSERT INTO t VALUES ('in alpha')`);
    await query(server.url('beta'), 'CREATE TABLE t (v text)');

    expect(await query(server.url('alpha'), 'SELECT v FROM t')).toEqual([{ v: 'in alpha' }]);
    expect(await query(server.url('beta'), 'SELECT v FROM t')).toEqual([]);
    const names = await query<{ datname: string }>(server.url('postgres'), 'SELECT datname FROM pg_database');
    expect(names.map((r) => r.datname)).toEqual(expect.arrayContaining(['alpha', 'beta']));
  }, 60_000);

  it('refuses a session for a database that does not exist with 3D000, as PostgreSQL does', async () => {
    await expect(query(server.url('missing_db'), 'SELECT 1')).rejects.toMatchObject({ code: '3D000' });
  });

  it('a database dropped and created again starts empty', async () => {
    await query(server.url('postgres'), 'CREATE DATABASE gamma');
    await query(server.url('gamma'), 'CREATE TABLE left_behind (v int)');
    await query(server.url('postgres'), 'DROP DATABASE gamma');
    await expect(query(server.url('gamma'), 'SELECT 1')).rejects.toMatchObject({ code: '3D000' });
    await query(server.url('postgres'), 'CREATE DATABASE gamma');
    const tables = await query(server.url('gamma'), `SELECT 1 FROM pg_tables WHERE tablename = 'left_behind'`);
    expect(tables).toEqual([]);
  }, 60_000);

  it('runs TypeORM with a pool: concurrent transactions each commit whole', async () => {
    await query(server.url('postgres'), 'CREATE DATABASE orm');
    const ds = new DataSource({ type: 'postgres', url: server.url('orm'), extra: { max: 4 } });
    await ds.initialize();
    try {
      await ds.query('CREATE TABLE counter (id int PRIMARY KEY, n int NOT NULL)');
      await ds.query('INSERT INTO counter VALUES (1, 0)');
      await Promise.all(
        Array.from({ length: 20 }, () =>
          ds.transaction(async (tx) => {
            const [row] = await tx.query<Array<{ n: number }>>('SELECT n FROM counter WHERE id = 1 FOR UPDATE');
            await tx.query('UPDATE counter SET n = $1 WHERE id = 1', [row!.n + 1]);
          }),
        ),
      );
      expect(await ds.query('SELECT n FROM counter WHERE id = 1')).toEqual([{ n: 20 }]);
      await expect(
        ds.transaction(async (tx) => {
          await tx.query('UPDATE counter SET n = 999 WHERE id = 1');
          throw new Error('roll back');
        }),
      ).rejects.toThrow('roll back');
      expect(await ds.query('SELECT n FROM counter WHERE id = 1')).toEqual([{ n: 20 }]);
    } finally {
      await ds.destroy();
    }
  }, 60_000);

  it('refuses a second server on a folder in use, naming the process that holds it', async () => {
    await expect(EmbeddedPostgres.start({ dataDir, port: 0 })).rejects.toThrow(`is in use by process ${process.pid}`);
    expect(await query(server.url('alpha'), 'SELECT v FROM t')).toEqual([{ v: 'in alpha' }]);
  });

  it('keeps every database across a restart on the same folder', async () => {
    const port = server.port;
    await server.stop();
    server = await EmbeddedPostgres.start({ dataDir });
    expect(server.port).toBe(port); // clients (the catalog) keep the server URL
    expect(await query(server.url('alpha'), 'SELECT v FROM t')).toEqual([{ v: 'in alpha' }]);
    expect(await query(server.url('orm'), 'SELECT n FROM counter')).toEqual([{ n: 20 }]);
  }, 60_000);
});
