import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSourceRouter, DatabaseAdmin, migrateDatabase, type DataSourcePlacement } from '#polystore/data-router';
import { parseTenantSlug, runAsTenant } from '#polystore/tenancy';
import { GenericContainer, Wait, getContainerRuntimeClient, type StartedTestContainer } from 'testcontainers';
import type { DataSource } from 'typeorm';
import { DeviceCredentialEntity } from '../src/credentials/device-credential.entity.js';
import { DeviceCredentialRepository } from '../src/credentials/device-credential.repository.js';
import { edgeSchema } from '../src/edge.schema.js';
import type { ReadingRow } from '../src/ingest/ingest-buffer.js';
import { MongoDeviceCredentialEntity, MongoReadingEntity } from '../src/mongodb/mongo.entities.js';
import { ReadingRepository } from '../src/telemetry/reading.repository.js';
import { TelemetryService } from '../src/telemetry/telemetry.service.js';
import { uniqueToken } from '../../../test/support/ids.js';

// The edge store on MongoDB, through the real repositories and DataSourceRouter. No MongoDB runs
// on the development machines: the suite uses MONGO_URL (e.g. mongodb://user:pass@host:27017)
// when set, else a throwaway mongo:7 container when a container runtime (Docker) answers, and is
// otherwise reported as skipped, with a message saying why.

const SKIP_MESSAGE = 'edge-store MongoDB tests SKIPPED: no MONGO_URL and no container runtime (Docker) on this machine';

type MongoSource = { readonly url: string } | { readonly container: true };

async function findMongo(): Promise<MongoSource | undefined> {
  if (process.env.MONGO_URL) return { url: process.env.MONGO_URL };
  try {
    await getContainerRuntimeClient(); // fails within milliseconds without Docker
    return { container: true };
  } catch {
    return undefined;
  }
}

const source = await findMongo();
// Straight to stderr, not console.warn: Jest drops the console output of a file whose tests were
// all skipped when it runs several files, and this line must show in a full run.
if (!source) process.stderr.write(`${SKIP_MESSAGE}\n`);
const suite = source ? describe : describe.skip;

const TENANT = parseTenantSlug('mongotest');
const DEVICE = randomUUID();
const OTHER_DEVICE = randomUUID();
const T0 = Date.parse('2026-03-01T10:00:00.000Z');

function reading(deviceId: string, seq: number, tsMs: number, metrics: Record<string, number>): ReadingRow {
  return { deviceId, seq, ts: new Date(tsMs), receivedAt: new Date(T0 + 3_600_000), metrics };
}

suite('edge store on MongoDB (MONGO_URL or a mongo:7 container)', () => {
  let container: StartedTestContainer | undefined;
  let placement: DataSourcePlacement;
  let router: DataSourceRouter;
  let readings: ReadingRepository;
  let credentials: DeviceCredentialRepository;
  let telemetry: TelemetryService;
  let firstMigration: string[];

  const inTenant = <T>(work: () => Promise<T>) => runAsTenant(TENANT, work, 30_000);
  const withDataSource = <T>(work: (ds: DataSource) => Promise<T>) =>
    inTenant(() => router.run((db) => work(db.connection)));

  beforeAll(async () => {
    let serverUrl: string;
    if (source && 'url' in source) {
      serverUrl = source.url;
    } else {
      container = await new GenericContainer('mongo:7')
        .withExposedPorts(27017)
        .withWaitStrategy(Wait.forLogMessage(/Waiting for connections/))
        .withStartupTimeout(120_000)
        .start();
      serverUrl = `mongodb://${container.getHost()}:${container.getMappedPort(27017)}`;
    }
    placement = {
      tenant: TENANT,
      serverUrl,
      database: `ps_edge_mongotest_${uniqueToken(8)}`,
      kind: 'database',
      version: 1,
    };
    router = new DataSourceRouter({
      name: 'edge-mongotest',
      resolvePlacement: () => Promise.resolve(placement),
      schema: edgeSchema,
      poolSize: 2,
      connectionBudget: 10,
      idleTtlMs: 60_000,
      maxWaiters: 100,
      acquireTimeoutMs: 5_000,
      breaker: { consecutiveFailures: 5, halfOpenAfterMs: 1_000 },
      applicationName: 'polystore-edge-mongotest',
      connectTimeoutMs: 5_000,
    });
    readings = new ReadingRepository(router);
    credentials = new DeviceCredentialRepository(router);
    telemetry = new TelemetryService(readings);
    // What provisioning does: ensureDatabase (a no-op on MongoDB), then the migrations.
    await expect(DatabaseAdmin.ensureDatabase(placement.serverUrl, placement.database)).resolves.toBe(false);
    firstMigration = (await withDataSource((ds) => migrateDatabase(ds))).applied;
  }, 180_000);

  afterAll(async () => {
    try {
      if (router) await router.close();
      if (placement) {
        await expect(DatabaseAdmin.dropDatabase(placement.serverUrl, placement.database)).resolves.toBe(true);
        await expect(DatabaseAdmin.databaseExists(placement.serverUrl, placement.database)).resolves.toBe(false);
        await expect(DatabaseAdmin.dropDatabase(placement.serverUrl, placement.database)).resolves.toBe(false);
      }
    } finally {
      await container?.stop();
    }
  }, 60_000);

  it('edge-mongodb - the migration creates the indexes, once (migrateDatabase without a lock)', async () => {
    expect(firstMigration).toEqual(['EdgeMongoInit1764203000000']);
    const again = await withDataSource((ds) => migrateDatabase(ds));
    expect(again.applied).toEqual([]);
    const indexes = await withDataSource((ds) =>
      ds.getMongoRepository(MongoReadingEntity).listCollectionIndexes().toArray(),
    );
    const byName = new Map(indexes.map((index) => [index.name as string, index]));
    expect(byName.get('readings_pkey')).toMatchObject({ key: { deviceId: 1, seq: 1 }, unique: true });
    expect(byName.get('readings_device_ts_idx')).toMatchObject({ key: { deviceId: 1, ts: 1, seq: 1 } });
    expect(byName.get('readings_ts_idx')).toMatchObject({ key: { ts: 1 } });
    await expect(DatabaseAdmin.databaseExists(placement.serverUrl, placement.database)).resolves.toBe(true);
  });

  it('edge-mongodb - batch insert stores duplicates once (within a batch, on redelivery, concurrently)', async () => {
    const batch = [
      reading(DEVICE, 1, T0, { temp: 20 }),
      reading(DEVICE, 2, T0 + 1_000, { temp: 21 }),
      reading(DEVICE, 2, T0 + 1_000, { temp: 21 }),
      reading(DEVICE, 3, T0 + 2_000, { temp: 22 }),
    ];
    await expect(inTenant(() => readings.insertBatch(batch))).resolves.toBe(3);
    // Redelivered with one new reading: only the new one is inserted, the stored ones are unchanged.
    const redelivered = [reading(DEVICE, 3, T0 + 2_000, { temp: 99 }), reading(DEVICE, 4, T0 + 3_000, { temp: 23 })];
    await expect(inTenant(() => readings.insertBatch(redelivered))).resolves.toBe(1);
    const concurrent = Array.from({ length: 50 }, (_, i) => reading(DEVICE, 100 + i, T0 + 10_000 + i, { temp: i }));
    const counts = await Promise.all([1, 2, 3].map(() => inTenant(() => readings.insertBatch(concurrent))));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(50);
    const stored = await withDataSource((ds) =>
      ds.getMongoRepository(MongoReadingEntity).countDocuments({ deviceId: DEVICE }),
    );
    expect(stored).toBe(54);
    const third = await inTenant(() => readings.points(DEVICE, new Date(T0 + 2_000), new Date(T0 + 2_001), 10));
    expect(third).toEqual([
      {
        seq: 3,
        ts: new Date(T0 + 2_000).toISOString(),
        receivedAt: new Date(T0 + 3_600_000).toISOString(),
        metrics: { temp: 22 },
      },
    ]);
  });

  it('edge-mongodb - raw points are paged by (ts, seq) with the cursor, ties broken by seq', async () => {
    const device = randomUUID();
    // Inserted out of order; seq 12 and 10 share a timestamp.
    const rows = [
      reading(device, 12, T0 + 5_000, { v: 12 }),
      reading(device, 11, T0 + 9_000, { v: 11 }),
      reading(device, 10, T0 + 5_000, { v: 10 }),
      reading(device, 13, T0 + 1_000, { v: 13 }),
      reading(device, 14, T0 + 7_000, { v: 14 }),
      reading(device, 15, T0 + 60_000, { v: 15 }), // outside [from, to)
    ];
    await inTenant(() => readings.insertBatch(rows));
    const from = new Date(T0).toISOString();
    const to = new Date(T0 + 60_000).toISOString();
    const seen: number[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await inTenant(() =>
        telemetry.query({ deviceId: device, from, to, limit: 2, ...(cursor ? { cursor } : {}) }),
      );
      seen.push(...page.points!.map((p) => p.seq));
      cursor = page.nextCursor ?? undefined;
      pages++;
    } while (cursor && pages < 10);
    expect(seen).toEqual([13, 10, 12, 14, 11]);
    expect(pages).toBe(3);
  });

  it('edge-mongodb - buckets per minute and per hour give avg/min/max/count per metric', async () => {
    const device = randomUUID();
    await inTenant(() =>
      readings.insertBatch([
        reading(device, 1, T0 + 10_000, { temp: 10, 'hum.pct': 40 }),
        reading(device, 2, T0 + 50_000, { temp: 20 }),
        reading(device, 3, T0 + 90_000, { temp: 30, 'hum.pct': 50 }),
        reading(device, 4, T0 + 3_900_000, { temp: 5 }),
      ]),
    );
    const from = new Date(T0);
    const to = new Date(T0 + 2 * 3_600_000);
    const minutes = await inTenant(() => readings.buckets(device, from, to, '1m', 100));
    expect(minutes).toEqual([
      { start: '2026-03-01T10:00:00.000Z', metric: 'hum.pct', avg: 40, min: 40, max: 40, count: 1 },
      { start: '2026-03-01T10:00:00.000Z', metric: 'temp', avg: 15, min: 10, max: 20, count: 2 },
      { start: '2026-03-01T10:01:00.000Z', metric: 'hum.pct', avg: 50, min: 50, max: 50, count: 1 },
      { start: '2026-03-01T10:01:00.000Z', metric: 'temp', avg: 30, min: 30, max: 30, count: 1 },
      { start: '2026-03-01T11:05:00.000Z', metric: 'temp', avg: 5, min: 5, max: 5, count: 1 },
    ]);
    const hours = await inTenant(() => readings.buckets(device, from, to, '1h', 100));
    expect(hours).toEqual([
      { start: '2026-03-01T10:00:00.000Z', metric: 'hum.pct', avg: 45, min: 40, max: 50, count: 2 },
      { start: '2026-03-01T10:00:00.000Z', metric: 'temp', avg: 20, min: 10, max: 30, count: 3 },
      { start: '2026-03-01T11:00:00.000Z', metric: 'temp', avg: 5, min: 5, max: 5, count: 1 },
    ]);
    await expect(inTenant(() => readings.buckets(device, from, to, '1m', 2))).resolves.toHaveLength(2);
  });

  it('edge-mongodb - readings per device per hour in [from, to), and the latest reading of each device', async () => {
    const [a, b, silent] = [randomUUID(), randomUUID(), randomUUID()];
    await inTenant(() =>
      readings.insertBatch([
        reading(a, 1, T0 - 1, { v: 1 }), // before the window
        reading(a, 2, T0 + 60_000, { v: 1 }),
        reading(a, 3, T0 + 120_000, { v: 1 }),
        reading(a, 4, T0 + 3_600_000, { v: 1 }),
        reading(a, 5, T0 + 2 * 3_600_000, { v: 1 }), // at `to`: excluded
        reading(b, 1, T0 + 3_599_999, { v: 1 }),
      ]),
    );
    const hourly = await inTenant(() =>
      readings.hourlyCounts([a.toUpperCase(), b, silent], new Date(T0), new Date(T0 + 2 * 3_600_000)),
    );
    const byDevice = (x: { deviceId: string }, y: { deviceId: string }) => x.deviceId.localeCompare(y.deviceId);
    expect(hourly).toEqual(
      [
        { deviceId: a, hour: '2026-03-01T10:00:00.000Z', readings: 2 },
        { deviceId: a, hour: '2026-03-01T11:00:00.000Z', readings: 1 },
        { deviceId: b, hour: '2026-03-01T10:00:00.000Z', readings: 1 },
      ].sort(byDevice),
    );
    const lastSeen = await inTenant(() => readings.lastSeen([a, b.toUpperCase(), silent]));
    expect(lastSeen).toEqual(
      [
        { deviceId: a, lastAt: new Date(T0 + 2 * 3_600_000).toISOString() },
        { deviceId: b, lastAt: new Date(T0 + 3_599_999).toISOString() },
      ].sort(byDevice),
    );
  });

  it('edge-mongodb - erase deletes every reading of the devices, and only theirs', async () => {
    await inTenant(() => readings.insertBatch([reading(OTHER_DEVICE, 1, T0, { v: 1 })]));
    const doomed = randomUUID();
    await inTenant(() => readings.insertBatch([reading(doomed, 1, T0, { v: 1 }), reading(doomed, 2, T0, { v: 2 })]));
    await expect(inTenant(() => readings.erase([doomed.toUpperCase()]))).resolves.toBe(2);
    await expect(inTenant(() => readings.erase([doomed]))).resolves.toBe(0);
    await expect(inTenant(() => readings.erase([]))).resolves.toBe(0);
    const others = await inTenant(() => readings.points(OTHER_DEVICE, new Date(0), new Date(T0 + 1), 10));
    expect(others).toHaveLength(1);
  });

  it('edge-mongodb - retention deletes old readings in batches and keeps recent ones', async () => {
    const device = randomUUID();
    const old = Array.from({ length: 7 }, (_, i) =>
      reading(device, i, Date.parse('2001-01-01T00:00:00Z') + i, { v: i }),
    );
    await inTenant(() =>
      readings.insertBatch([...old, reading(device, 100, Date.parse('2002-06-01T00:00:00Z'), { v: 1 })]),
    );
    const cutoff = new Date('2002-01-01T00:00:00Z');
    const deleted: number[] = [];
    for (;;) {
      const n = await inTenant(() => readings.deleteOlderThan(cutoff, 3));
      deleted.push(n);
      if (n < 3) break;
    }
    expect(deleted).toEqual([3, 3, 1]);
    const left = await inTenant(() => readings.points(device, new Date(0), new Date('2003-01-01T00:00:00Z'), 10));
    expect(left.map((p) => p.seq)).toEqual([100]);
  });

  it('edge-mongodb - credentials are saved and found (token hash back as a Buffer), updated in place', async () => {
    const device = randomUUID();
    await expect(inTenant(() => credentials.find(device))).resolves.toBeNull();
    const hash = Buffer.alloc(32, 0xab);
    const updatedAt = new Date(T0);
    await inTenant(() =>
      credentials.save(
        Object.assign(new DeviceCredentialEntity(), {
          deviceId: device,
          tokenHash: hash,
          generation: 1,
          status: 'active' as const,
          updatedAt,
        }),
      ),
    );
    const found = await inTenant(() => credentials.find(device.toUpperCase()));
    expect(found).toBeInstanceOf(DeviceCredentialEntity);
    expect(found).toMatchObject({ deviceId: device, generation: 1, status: 'active', updatedAt });
    expect(Buffer.isBuffer(found!.tokenHash)).toBe(true);
    expect(found!.tokenHash.equals(hash)).toBe(true);
    found!.status = 'revoked';
    found!.updatedAt = new Date(T0 + 1_000);
    await inTenant(() => credentials.save(found!));
    await expect(inTenant(() => credentials.find(device))).resolves.toMatchObject({
      status: 'revoked',
      generation: 1,
      updatedAt: new Date(T0 + 1_000),
    });
    const copies = await withDataSource((ds) =>
      ds.getMongoRepository(MongoDeviceCredentialEntity).countDocuments({ deviceId: device }),
    );
    expect(copies).toBe(1);
  });
});
