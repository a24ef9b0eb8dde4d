import { createServer } from 'node:net';
import { describe, expect, it } from '@jest/globals';
import { parseTenantSlug, runAsTenant } from '#polystore/tenancy';
import {
  DataRouterErrorCode,
  DataSourceRouter,
  DatabaseAdmin,
  parseServerUrl,
  resolveStoreSchema,
  type StoreSchema,
} from '#polystore/data-router';
import { MongoBulkWriteError, MongoNetworkError, MongoServerError, MongoServerSelectionError } from 'mongodb';
import { connectionOptions } from '../src/internal/connection-options.js';
import { failureReason, isUnreachable } from '../src/internal/failure.js';

// What can be checked of the MongoDB mode without a MongoDB server: options, error
// classification, unreachable servers. The real round trips are in
// apps/edge-store/test/edge-mongodb.int.spec.ts (MONGO_URL or Docker).

const SETTINGS = { poolSize: 3, applicationName: 'polystore-edge:test', connectTimeoutMs: 1_500 };

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('data-router MongoDB support (no server needed)', () => {
  it('data-router - builds TypeORM mongodb options from separate fields, with migrations', () => {
    const schema: StoreSchema = { entities: [], migrations: [], migrationsTableName: 'edge_migrations' };
    const options = connectionOptions(
      parseServerUrl('mongodb://edge%40user:p%3Ass@db.example:27018'),
      'ps_edge_acme',
      schema,
      SETTINGS,
    );
    expect(options).toMatchObject({
      type: 'mongodb',
      host: 'db.example',
      port: 27018,
      username: 'edge@user',
      password: 'p:ss',
      database: 'ps_edge_acme',
      authSource: 'admin',
      migrationsTableName: 'edge_migrations',
      synchronize: false,
      migrationsRun: false,
      extra: { serverSelectionTimeoutMS: 1_500, maxPoolSize: 3, appName: 'polystore-edge:test' },
    });
    expect(options).not.toHaveProperty('url');
    const anonymous = connectionOptions(parseServerUrl('mongodb://127.0.0.1'), 'ps_edge_acme', schema, SETTINGS);
    expect(anonymous).toMatchObject({ host: '127.0.0.1', port: 27017 });
    expect(anonymous).not.toHaveProperty('authSource');
  });

  it('data-router - a schema function gets the dialect of the server', () => {
    const sql: StoreSchema = { entities: [], migrationsTableName: 'sql' };
    const mongo: StoreSchema = { entities: [], migrationsTableName: 'mongo' };
    const byDialect = (dialect: string) => (dialect === 'mongodb' ? mongo : sql);
    expect(resolveStoreSchema(byDialect, 'mongodb')).toBe(mongo);
    expect(resolveStoreSchema(byDialect, 'postgres')).toBe(sql);
    expect(resolveStoreSchema(sql, 'mongodb')).toBe(sql);
  });

  it('data-router - MongoDB server-selection and network errors count as unreachable, query errors do not', () => {
    const network = new MongoNetworkError('connect ECONNREFUSED');
    expect(isUnreachable(network)).toBe(true);
    expect(failureReason(network)).toBe('MongoNetworkError');
    const selection = Object.create(MongoServerSelectionError.prototype) as Error;
    expect(isUnreachable(selection)).toBe(true);
    expect(isUnreachable(new MongoServerError({ message: 'shutting down', code: 91 }))).toBe(true);
    expect(failureReason(new MongoServerError({ message: 'x', code: 189 }))).toBe('MongoServerError 189');
    expect(isUnreachable(new MongoServerError({ message: 'duplicate key', code: 11000 }))).toBe(false);
    expect(isUnreachable(Object.create(MongoBulkWriteError.prototype))).toBe(false);
    // Wrapped (TypeORM driverError, cause chains) like the SQL drivers' errors.
    expect(isUnreachable(new Error('wrapped', { cause: network }))).toBe(true);
    // A numeric code only means something on a MongoDB error.
    expect(isUnreachable({ name: 'Error', code: 91 })).toBe(false);
  });

  it('data-router - an unreachable MongoDB fails fast with DATABASE_UNAVAILABLE and opens the circuit', async () => {
    const serverUrl = `mongodb://127.0.0.1:${await closedPort()}`;
    const tenant = parseTenantSlug('mongo-down');
    const router = new DataSourceRouter({
      name: 'test-mongo',
      resolvePlacement: (t) =>
        Promise.resolve({ tenant: t, serverUrl, database: 'ps_edge_mongo_down', kind: 'database', version: 1 }),
      schema: () => ({ entities: [] }),
      poolSize: 2,
      connectionBudget: 10,
      idleTtlMs: 60_000,
      maxWaiters: 10,
      acquireTimeoutMs: 5_000,
      breaker: { consecutiveFailures: 2, halfOpenAfterMs: 60_000 },
      applicationName: 'mongo-down-test',
      connectTimeoutMs: 300,
    });
    try {
      for (const reason of ['MongoServerSelectionError', 'MongoServerSelectionError', 'circuit open']) {
        const started = Date.now();
        const error = await runAsTenant(tenant, () => router.migrate(), 10_000).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toMatchObject({ code: DataRouterErrorCode.DATABASE_UNAVAILABLE, details: { reason } });
        expect(Date.now() - started).toBeLessThan(5_000);
      }
    } finally {
      await router.close();
    }
  });

  it('data-router - DatabaseAdmin: ensureDatabase is a no-op on MongoDB, drops report the server unreachable', async () => {
    const serverUrl = `mongodb://127.0.0.1:${await closedPort()}`;
    await expect(DatabaseAdmin.ensureDatabase(serverUrl, 'ps_edge_x')).resolves.toBe(false);
    await expect(DatabaseAdmin.dropDatabase(serverUrl, 'ps_edge_x')).rejects.toMatchObject({
      code: DataRouterErrorCode.DATABASE_UNAVAILABLE,
    });
    await expect(DatabaseAdmin.dropDatabase(serverUrl, 'Bad-Name')).rejects.toMatchObject({
      code: DataRouterErrorCode.INVALID_PLACEMENT,
    });
  }, 20_000);
});
