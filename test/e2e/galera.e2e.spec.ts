import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { parseTenantSlug, runAsTenant } from '#polystore/tenancy';
import {
  ClusterMembership,
  DataSourceRouter,
  classifySqlError,
  isTransientSqlError,
  parseServerUrl,
  type DataSourcePlacement,
} from '#polystore/data-router';
import { type ClientRegistration, registerDevice, registerUntilFinal } from '../support/device-registrations.js';
import { eventually } from '../support/eventually.js';
import { httpRequest } from '../support/http.js';
import { Galera, GALERA_NODES, type GaleraNode } from '../support/galera.js';
import { uniqueToken } from '../support/ids.js';
import { TestStack, type TestTenant } from '../support/stack.js';
import { runCli } from '../support/cli.js';
import { OutboxRepository } from '../../apps/reliable-store/src/outbox/outbox.repository.js';
import { RELIABLE_SCHEMA } from '../../apps/reliable-store/src/reliable.schema.js';

// One file for everything that uses the cluster of scripts/galera.sh (nodes are killed and
// desynced on purpose): jest runs the files of a suite in parallel, the tests of a file in turn.

/**
 * The router on the 3-node Galera cluster of `scripts/galera.sh`, through a multi-host server URL:
 * it works on one node, leaves a node that stops being Synced (desynced on purpose: alive and
 * answering, but not to be used), and a certification conflict between two nodes is the deadlock
 * error that the store's retry policies retry.
 */
describe('data-router - a multi-host server URL on a Galera cluster (3 nodes)', () => {
  const database = 'ps_galera_router_test';
  const tenant = parseTenantSlug('galera-router');
  const url = (order: GaleraNode[]) => `mysql://root@${order.map((n) => `127.0.0.1:${Galera.port(n)}`).join(',')}`;
  const routers: DataSourceRouter[] = [];

  const routerOn = (serverUrl: string) => {
    const placement: DataSourcePlacement = { tenant, serverUrl, database, kind: 'database', version: 1 };
    const router = new DataSourceRouter({
      name: 'galera-test',
      resolvePlacement: () => Promise.resolve(placement),
      schema: { entities: [] },
      poolSize: 2,
      connectionBudget: 10,
      sharedPoolSize: 4,
      idleTtlMs: 60_000,
      maxWaiters: 100,
      acquireTimeoutMs: 3_000,
      connectTimeoutMs: 1_000,
      clusterCheckIntervalMs: 200,
      breaker: { consecutiveFailures: 3, halfOpenAfterMs: 200 },
      applicationName: 'galera-test',
    });
    routers.push(router);
    return router;
  };
  /** The node (port) a unit of work of `router` runs on. */
  const servingPort = (router: DataSourceRouter) =>
    runAsTenant(
      tenant,
      async () => {
        const rows = await router.run((db) => db.query<Array<{ port: number }>>('SELECT @@port AS port'));
        return Number(rows[0]!.port);
      },
      10_000,
    );

  beforeAll(async () => {
    await Galera.start();
    await Galera.query(1, `CREATE DATABASE IF NOT EXISTS \`${database}\``);
    await Galera.query(
      1,
      `CREATE TABLE IF NOT EXISTS \`${database}\`.counter (id INT PRIMARY KEY, n INT NOT NULL) ENGINE=InnoDB`,
    );
    await Galera.query(1, `INSERT INTO \`${database}\`.counter VALUES (1, 0) ON DUPLICATE KEY UPDATE n = n`);
  }, 180_000);

  afterAll(async () => {
    await Promise.all(routers.map((router) => router.close()));
    await Galera.query(2, 'SET GLOBAL wsrep_desync = OFF').catch(() => undefined);
    await Galera.query(1, `DROP DATABASE IF EXISTS \`${database}\``).catch(() => undefined);
  });

  it('data-router - parses a host list into nodes; refuses one on PostgreSQL and a host named twice', () => {
    const address = parseServerUrl('mysql://app:pw@db1:3307,db2,[::1]:3309?sslmode=require');
    expect(address.nodes).toEqual([
      { host: 'db1', port: 3307 },
      { host: 'db2', port: 3306 },
      { host: '::1', port: 3309 },
    ]);
    expect({ id: address.id, user: address.username, tls: address.tls?.mode }).toEqual({
      id: 'mysql://db1:3307,db2:3306,[::1]:3309',
      user: 'app',
      tls: 'require',
    });
    expect(() => parseServerUrl('postgres://root@h1:5432,h2:5432')).toThrow(/need MySQL or MariaDB/);
    expect(() => parseServerUrl('mysql://root@h1:3306,h1:3306')).toThrow(/names a host twice/);
    expect(() => parseServerUrl('mysql://root@h1:3306,/x')).toThrow(/not a URL/);
  });

  it('data-router - works on the first synced node, and moves off a node that is desynced (alive, answering, not Synced)', async () => {
    // Node 2 first in the URL: the router starts there.
    const router = routerOn(url([2, 1, 3]));
    expect(await servingPort(router)).toBe(Galera.port(2));
    const cluster = router.stats().clusters[0]!;
    expect(cluster.nodes.map((n) => [n.node, n.condition, n.clusterSize, n.current])).toEqual([
      [`127.0.0.1:${Galera.port(2)}`, 'synced', 3, true],
      [`127.0.0.1:${Galera.port(1)}`, 'synced', 3, false],
      [`127.0.0.1:${Galera.port(3)}`, 'synced', 3, false],
    ]);

    await Galera.query(2, 'SET GLOBAL wsrep_desync = ON');
    try {
      // Within a check or two, new units go to node 1, and no connection to node 2 is kept.
      await eventually(async () => (await servingPort(router)) === Galera.port(1), {
        timeoutMs: 5_000,
        what: 'units moving to node 1',
      });
      const state = router.stats().clusters[0]!;
      expect(state.failovers).toBeGreaterThanOrEqual(1);
      expect(state.nodes[0]).toMatchObject({ condition: 'not-synced', connections: 0 });
      expect(state.nodes[0]!.detail).toMatch(/Donor\/Desynced/);
    } finally {
      await Galera.query(2, 'SET GLOBAL wsrep_desync = OFF');
    }
    // Synced again: usable again, but the router stays where it is (one writing node at a time).
    await eventually(() => router.stats().clusters[0]!.nodes[0]!.condition === 'synced', {
      timeoutMs: 5_000,
      what: 'node 2 synced again',
    });
    expect(await servingPort(router)).toBe(Galera.port(1));
    expect(ClusterMembership.all().some((c) => c.state().server === router.stats().clusters[0]!.server)).toBe(true);
  });

  it('data-router - a certification conflict between two nodes fails the later commit with a deadlock error, which is classified as retryable', async () => {
    const mysql = await import('mysql2/promise');
    const connect = (node: GaleraNode) =>
      mysql.createConnection({ host: '127.0.0.1', port: Galera.port(node), user: 'root', database });
    const a = await connect(1);
    const b = await connect(2);
    try {
      await a.query('BEGIN');
      await b.query('BEGIN');
      await a.query('UPDATE counter SET n = n + 1 WHERE id = 1');
      await b.query('UPDATE counter SET n = n + 10 WHERE id = 1');
      await a.query('COMMIT');
      const lost = await b.query('COMMIT').then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(lost).toMatchObject({ errno: 1213 });
      expect([classifySqlError(lost), isTransientSqlError(lost)]).toEqual(['deadlock', true]);
    } finally {
      await Promise.all([a.end(), b.end()]);
    }
  });
});

/**
 * The outbox's order on the cluster: a tenant's events must commit in `seq` order, which the relay
 * publishes them in. Writers of one tenant on two nodes (two replicas during a failover) must not
 * both commit: the append takes the tenant's lock row with a write, which Galera certifies
 * cluster-wide (a `SELECT ... FOR UPDATE` is not replicated, and both would commit).
 */
describe('reliable store outbox on a Galera cluster - appends certified across nodes', () => {
  const database = 'ps_galera_outbox_test';
  const tenant = parseTenantSlug('galera-outbox');
  const sources: DataSource[] = [];
  const on = async (node: GaleraNode) => {
    const source = new DataSource({
      type: 'mariadb',
      host: '127.0.0.1',
      port: Galera.port(node),
      username: 'root',
      database,
      entities: RELIABLE_SCHEMA.entities,
      migrations: RELIABLE_SCHEMA.migrations,
      migrationsTableName: RELIABLE_SCHEMA.migrationsTableName,
    });
    sources.push(source);
    return source.initialize();
  };

  beforeAll(async () => {
    await Galera.start();
    await Galera.query(1, `DROP DATABASE IF EXISTS \`${database}\``);
    await Galera.query(1, `CREATE DATABASE \`${database}\``);
  }, 180_000);

  afterAll(async () => {
    await Promise.all(sources.map((source) => source.destroy()));
    await Galera.query(1, `DROP DATABASE IF EXISTS \`${database}\``).catch(() => undefined);
  });

  it('outbox - two appends of one tenant on two nodes at once: the later commit fails as a retryable deadlock, and its retry comes after in seq order', async () => {
    const first = await on(1);
    await first.runMigrations();
    const second = await on(2);
    const outbox = new OutboxRepository();
    const event = (deviceId: string) => ({
      type: 'device.created' as const,
      deviceId,
      status: 'pending' as const,
      version: 1,
    });
    const [deviceA, deviceB] = [randomUUID(), randomUUID()];
    await runAsTenant(
      tenant,
      async () => {
        const a = first.createQueryRunner();
        const b = second.createQueryRunner();
        try {
          await a.startTransaction();
          await b.startTransaction();
          await outbox.append(a.manager, event(deviceA)); // node 1
          await outbox.append(b.manager, event(deviceB)); // node 2, not blocked: no cluster-wide locks
          await b.commitTransaction();
          const lost = await a.commitTransaction().then(
            () => undefined,
            (error: unknown) => error,
          );
          expect(lost).toBeDefined();
          expect([classifySqlError(lost), isTransientSqlError(lost)]).toEqual(['deadlock', true]);
          if (a.isTransactionActive) await a.rollbackTransaction().catch(() => undefined);
        } finally {
          await Promise.all([a.release(), b.release()]);
        }
        // The retry (what the store's retry policy does) appends again, after B.
        await first.transaction((m) => outbox.append(m, event(deviceA)));
      },
      30_000,
    );
    // Node 3 applies both (asynchronously): the tenant's events in seq order are B, then A.
    const order = async () =>
      (await Galera.query<{ payload: string }>(3, `SELECT payload FROM \`${database}\`.outbox ORDER BY seq`)).map(
        (r) => (JSON.parse(r.payload) as { deviceId: string }).deviceId,
      );
    await eventually(async () => (await order()).length === 2, { timeoutMs: 5_000, what: 'both events on node 3' });
    expect(await order()).toEqual([deviceB, deviceA]);
  });
});

/**
 * The reliable store on a 3-node MariaDB Galera cluster (`scripts/galera.sh`, ports 3307-3309),
 * reached through one multi-host server URL: the node the stores work on is SIGKILLed while ten
 * clients register devices with Idempotency-Keys; then it rejoins; then all three nodes die and
 * the cluster is recovered from the most advanced one. Nothing acknowledged may be lost or doubled.
 */
describe('reliable store on Galera - failover with nothing acknowledged lost (e2e)', () => {
  let stack: TestStack;
  let tenant: TestTenant;
  let database: string;
  const acknowledged = new Map<string, string>(); // device id -> name

  beforeAll(async () => {
    await Galera.start();
    stack = await TestStack.start({
      apps: ['secure-store', 'reliable-store', 'edge-store', 'gateway'],
      env: { RELIABLE_SERVER_URL: Galera.url },
    });
    tenant = await stack.createTenant('galera');
    const placement = await stack.placement(tenant.slug, 'reliable');
    expect(placement.server).toBe(Galera.url.replace('root@', ''));
    database = placement.database;
  }, 180_000);

  afterAll(async () => {
    await stack?.close();
    // Leave the cluster whole for whatever runs next.
    await Galera.start();
  }, 180_000);

  const register = (name: string, key: string) => registerDevice(stack, tenant, name, key);
  const get = (path: string) => stack.request({ method: 'GET', path, tenant: tenant.slug, apiKey: tenant.apiKey });

  /** `polystore cluster status` on the cluster's URL: its exit code and what it printed. */
  const clusterStatus = () =>
    runCli(['cluster', 'status'], { PATH: process.env.PATH ?? '', RELIABLE_SERVER_URL: Galera.url });

  /** The run's devices as one node's copy of the registry holds them. */
  const registryOn = async (node: GaleraNode, run: string) =>
    Galera.query<{ id: string }>(node, `SELECT id FROM \`${database}\`.devices WHERE name LIKE CONCAT(?, '-%')`, [run]);

  it('galera - the serving node SIGKILLed under 10 registering clients: every key one device, nothing lost, serving again within 5 s, only retried errors', async () => {
    const run = uniqueToken(6);
    let stopAt = Number.POSITIVE_INFINITY;
    let completed = 0;
    // Every request as sent: when, how long, what it got (the pause is measured on writes).
    const requests: Array<{ start: number; end: number; status: number }> = [];
    const timed = async (name: string, key: string) => {
      const start = Date.now();
      const response = await register(name, key);
      requests.push({ start, end: Date.now(), status: response.status });
      return response;
    };
    const clients = Array.from({ length: 10 }, async (_, c) => {
      const results: ClientRegistration[] = [];
      for (let i = 0; Date.now() < stopAt; i++) {
        results.push(await registerUntilFinal(timed, `${run}-c${c}-${i}`, `${run}-c${c}-${i}`, () => stopAt + 30_000));
        completed++;
      }
      return results;
    });
    await eventually(() => completed >= 30, { timeoutMs: 60_000, what: 'a first 30 registrations' });
    const victim = await Galera.busiest();
    const survivor = GALERA_NODES.find((n) => n !== victim)!;

    const killedAt = Date.now();
    await Galera.kill(victim);
    const atKill = completed;
    await eventually(() => completed >= atKill + 30, { timeoutMs: 60_000, what: '30 registrations after the kill' });
    stopAt = Date.now();
    const results = (await Promise.all(clients)).flat();

    // Each key got 201; the only other answers a client saw are ones it is told to retry.
    const notCreated = results.filter((r) => r.answer?.status !== 201).map((r) => ({ key: r.key, seen: r.seen }));
    expect(notCreated).toEqual([]);
    const refused = results.flatMap((r) => r.seen).filter((status) => ![201, 202, 429, 503].includes(status));
    expect(refused).toEqual([]);
    // Each key is one device, and the same key answers the same device again.
    const ids = results.map((r) => r.answer!.body.id as string);
    expect(new Set(ids).size).toBe(results.length);
    for (const r of results.slice(0, 10)) {
      const again = await register(r.name, r.key);
      expect({ status: again.status, id: again.body.id }).toEqual({ status: 201, id: r.answer!.body.id });
    }
    for (const r of results) acknowledged.set(r.answer!.body.id as string, r.name);
    // Nothing lost, nothing doubled: the surviving nodes hold exactly the acknowledged devices.
    expect((await registryOn(survivor, run)).map((r) => r.id).sort()).toEqual([...ids].sort());
    // Serving again within 5 s: a registration sent after the kill is acknowledged by then.
    const after = requests.filter((r) => r.start >= killedAt && r.status === 201);
    const pauseMs = Math.min(...after.map((r) => r.end)) - killedAt;
    const slowest = Math.max(...requests.filter((r) => r.end >= killedAt).map((r) => r.end - r.start));
    expect(pauseMs).toBeLessThanOrEqual(5_000);
    // The store did move: it logged that new connections go to another node.
    const moved = stack.app('reliable-store').lines.filter((line) => line.includes('new connections go to'));
    expect(moved.join('\n')).toContain(`127.0.0.1:${Galera.port(victim)} is down`);
    process.stdout.write(
      `galera failover: node ${victim} killed, first new registration acknowledged after ${pauseMs} ms, slowest across the kill ${slowest} ms; ${results.length} registrations, ` +
        `${results.filter((r) => r.seen.length > 1).length} retried (${[...new Set(results.flatMap((r) => r.seen))].join(',')})\n`,
    );

    // Operators see it: the store's metrics and the CLI name the dead node.
    const victimNode = `127.0.0.1:${Galera.port(victim)}`;
    const metrics = (await httpRequest({ port: stack.app('reliable-store').port, path: '/metrics' })).text;
    expect(metrics).toMatch(new RegExp(`polystore_cluster_node_synced\\{[^}]*node="${victimNode}"[^}]*\\} 0`));
    expect(Number(/polystore_cluster_failovers_total\{[^}]*\} (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
    const degraded = await clusterStatus();
    expect(degraded.code).toBe(1);
    expect(degraded.stdout).toMatch(new RegExp(`${victimNode}\\s+down`));

    // The killed node comes back by itself through the script, catches up (IST), and serves the same rows.
    await Galera.script('start-node', String(victim));
    expect(await Galera.state(victim)).toBe('Synced 3');
    const whole = await clusterStatus();
    expect(whole).toMatchObject({ code: 0, stdout: expect.stringContaining('3 of 3 nodes usable') });
    expect((await registryOn(victim, run)).map((r) => r.id).sort()).toEqual([...ids].sort());
  }, 240_000);

  it('galera - one node SIGKILLed, more registrations, then the other two: the script recovers the cluster from a node that saw them all (the most advanced), nothing acknowledged is lost, the store serves again without a restart', async () => {
    expect(acknowledged.size).toBeGreaterThan(0);
    const storePid = stack.app('reliable-store').child.pid;
    // The first to die falls behind: bootstrapping from it would lose what came after.
    const serving = await Galera.busiest();
    const behind = GALERA_NODES.find((n) => n !== serving)!;
    await Galera.kill(behind);
    for (let i = 0; i < 5; i++) {
      const name = `late-${uniqueToken(6)}`;
      const response = await eventually(
        async () => {
          const answer = await register(name, name);
          return answer.status === 201 ? answer : undefined;
        },
        { timeoutMs: 20_000, what: `registration ${name} after node ${behind} died` },
      );
      acknowledged.set(response.body.id as string, name);
    }
    const others = GALERA_NODES.filter((n) => n !== behind);
    for (const node of others) await Galera.kill(node);
    const output = await Galera.script('start');
    expect(output).toMatch(new RegExp(`node (${others.join('|')}) is the most advanced`));
    for (const node of GALERA_NODES) expect(await Galera.state(node)).toBe('Synced 3');

    const missing: string[] = [];
    for (const id of acknowledged.keys()) {
      const device = await eventually(
        async () => {
          const read = await get(`/v1/devices/${id}`);
          return read.status === 200 ? read : undefined;
        },
        { timeoutMs: 20_000, what: `device ${id} readable again` },
      ).catch(() => undefined);
      if (!device) missing.push(id);
    }
    expect(missing).toEqual([]);
    // New work goes through, on the same store process.
    expect((await register(`after-${uniqueToken(4)}`, `after-${uniqueToken(8)}`)).status).toBe(201);
    expect(stack.app('reliable-store').child.pid).toBe(storePid);
  }, 240_000);
});
