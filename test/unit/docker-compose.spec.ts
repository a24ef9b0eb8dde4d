import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import type { ZodType } from 'zod';
import { edgeStoreConfigSchema } from '../../apps/edge-store/src/config.js';
import { gatewayConfigSchema } from '../../apps/gateway/src/config.js';
import { reliableStoreConfigSchema } from '../../apps/reliable-store/src/config.js';
import { secureStoreConfigSchema } from '../../apps/secure-store/src/config.js';
import { cliConfigSchema } from '../../apps/cli/src/config.js';
import { storeKeyOf } from '#polystore/catalog';
import { BUS_SERVICES, busServerConfig, contextPublicKeyOf, derivedStoreContextKey } from '#polystore/messaging';
import { withSecretFiles } from '#polystore/platform';

const ROOT = new URL('../..', import.meta.url).pathname;

/** What `.env` would hold (placeholders): every `${VAR:?...}` must be one of these. */
const DOT_ENV: Record<string, string> = {
  POSTGRES_PASSWORD: 'pg-placeholder-0123456789',
  MARIADB_ROOT_PASSWORD: 'maria-placeholder-0123456789',
  PROVISIONER_PASSWORD: 'provisioner-placeholder_0123456789',
  CATALOG_PASSWORD: 'catalog-placeholder_0123456789',
  MASTER_KEY: Buffer.alloc(32, 7).toString('base64'),
  RELIABLE_STORE_KEY: storeKeyOf(Buffer.alloc(32, 7), 'reliable').toString('base64'),
  EDGE_STORE_KEY: storeKeyOf(Buffer.alloc(32, 7), 'edge').toString('base64'),
  ADMIN_TOKEN: 'admin-placeholder-0123456789abcdef',
  DEVICE_BROKER_KEY: Buffer.alloc(32, 9).toString('base64'),
  CONTEXT_SIGNING_KEY: Buffer.alloc(32, 5).toString('base64'),
  CONTEXT_VERIFY_KEYS: contextPublicKeyOf(Buffer.alloc(32, 5)),
  CONTEXT_STORE_KEYS: ['secure-store', 'reliable-store', 'edge-store']
    .map((service) => `${service}=${derivedStoreContextKey(Buffer.alloc(32, 5), service).publicKey}`)
    .join(','),
  SECURE_STORE_CONTEXT_KEY: derivedStoreContextKey(Buffer.alloc(32, 5), 'secure-store').privateKey,
  RELIABLE_STORE_CONTEXT_KEY: derivedStoreContextKey(Buffer.alloc(32, 5), 'reliable-store').privateKey,
  EDGE_STORE_CONTEXT_KEY: derivedStoreContextKey(Buffer.alloc(32, 5), 'edge-store').privateKey,
  GRAFANA_ADMIN_PASSWORD: 'grafana-placeholder-0123456789',
};

/** Compose's interpolation: `${VAR}`, `${VAR:-default}`, `${VAR:?error}`; a required one missing throws. */
function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(/\$\{([A-Z0-9_]+)(?::([-?])([^}]*))?\}/g, (_, name: string, kind?: string, rest?: string) => {
    if (env[name] !== undefined) return env[name];
    if (kind === '-') return rest ?? '';
    if (kind === '?') throw new Error(`required variable ${name} is not in .env: ${rest}`);
    return '';
  });
}

type Service = {
  image?: string;
  profiles?: string[];
  build?: { context: string; dockerfile: string };
  environment?: Record<string, string | number>;
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
  user?: string;
  restart?: string;
  healthcheck?: { test: unknown };
  ports?: string[];
  expose?: string[];
  container_name?: string;
  command?: string | string[];
};

const text = readFileSync(`${ROOT}docker-compose.yml`, 'utf8');
const compose = parse(text, { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const services = compose.services;

/** A service's volumes (short syntax `source:target[:ro]`). */
function mounts(service: Service): Array<{ source: string; target: string; readOnly: boolean }> {
  return (service.volumes ?? []).map((volume) => {
    const [source, target, mode] = volume.split(':');
    return { source: source!, target: target!, readOnly: mode === 'ro' };
  });
}

/** A service's command as one string (a `sh -c` script, or the arguments joined by spaces). */
function commandOf(service: Service): string {
  const command = service.command ?? '';
  return Array.isArray(command) ? command.join(' ') : command;
}

/** A service's environment as the container gets it, from `env` (default: DOT_ENV). */
function environmentOf(name: string, env: Record<string, string> = DOT_ENV): Record<string, string> {
  return Object.fromEntries(
    Object.entries(services[name]!.environment ?? {}).map(([k, v]) => [k, interpolate(String(v), env)]),
  );
}

/** Whether `name` starts only after `job` exited 0: it depends on it, directly or through a dependency. */
function startsAfter(name: string, job: string, seen = new Set<string>()): boolean {
  if (seen.has(name)) return false;
  seen.add(name);
  return Object.entries(services[name]!.depends_on ?? {}).some(
    ([dependency, { condition }]) =>
      (dependency === job && condition === 'service_completed_successfully') ||
      (['service_healthy', 'service_completed_successfully'].includes(condition) && startsAfter(dependency, job, seen)),
  );
}

const APPS: Record<string, { schema: ZodType; servers: string[] }> = {
  gateway: { schema: gatewayConfigSchema, servers: ['postgres', 'nats'] },
  'secure-store': { schema: secureStoreConfigSchema, servers: ['postgres', 'nats'] },
  'reliable-store': { schema: reliableStoreConfigSchema, servers: ['postgres', 'mariadb', 'nats'] },
  'edge-store': { schema: edgeStoreConfigSchema, servers: ['postgres', 'nats', 'device-broker'] },
};
const SERVERS = ['postgres', 'mariadb', 'nats', 'device-broker'];
/** One-shot jobs that run before a server or the apps (no health check: compose waits for their success). */
const JOBS = ['bus-config', 'db-roles', 'device-broker-config'];
/** The `broker-cluster` profile: three device-broker nodes and the job that writes their configs. */
const BROKER_CLUSTER = ['device-broker-cluster-config', 'device-broker-1', 'device-broker-2', 'device-broker-3'];
/** The `citus` profile: a coordinator, two workers and the one-shot that registers them. */
const CITUS = ['citus-coordinator', 'citus-worker-1', 'citus-worker-2', 'citus-setup'];
/** The `ha` profile: the reliable store's MariaDB as a 3-node Galera cluster. */
const HA = ['galera-1', 'galera-2', 'galera-3'];
/** The `observability` profile: metrics, dashboards, traces (test/unit/observability-deploy.spec.ts). */
const OBSERVABILITY = ['prometheus', 'grafana', 'jaeger'];

/**
 * docker-compose.yml, checked statically (no Docker engine here): every server and app is
 * there, each app builds from its Dockerfile, starts after healthy servers, has a health check,
 * and its environment passes the app's own config validation in production; no secret is
 * written in the file. As `npm run stack` runs them (docs/security.md): every app is on the
 * authenticated bus with only its own seed, and logs in to the databases without a superuser,
 * after the one-shot jobs bus-config and db-roles succeeded.
 */
describe('docker-compose.yml - the full stack, checked statically', () => {
  it('compose - every server, job and app is a service; the servers have health checks; the jobs run once', () => {
    expect(Object.keys(services).sort()).toEqual(
      [...SERVERS, ...JOBS, ...Object.keys(APPS), ...CITUS, ...BROKER_CLUSTER, ...HA, ...OBSERVABILITY].sort(),
    );
    // The default `docker compose up` starts no Citus and no broker-cluster service.
    const byDefault = Object.entries(services).filter(([, s]) => !s.profiles);
    expect(byDefault.map(([name]) => name).sort()).toEqual([...SERVERS, ...JOBS, ...Object.keys(APPS)].sort());
    for (const server of SERVERS) expect(services[server]!.healthcheck?.test).toBeDefined();
    for (const job of JOBS) expect(services[job]!.restart).toBe('no');
  });

  it.each(Object.keys(APPS))(
    'compose - %s builds from its Dockerfile, waits for healthy servers, has a health check',
    (app) => {
      const service = services[app]!;
      expect(service.build?.dockerfile).toBe(`apps/${app}/Dockerfile`);
      expect(existsSync(`${ROOT}${service.build!.dockerfile}`)).toBe(true);
      for (const server of APPS[app]!.servers)
        expect(service.depends_on?.[server]).toEqual({ condition: 'service_healthy' });
      expect(JSON.stringify(service.healthcheck?.test)).toContain('/health/live');
      // Scalable with --scale: no fixed container name.
      expect(service.container_name).toBeUndefined();
    },
  );

  it.each(Object.keys(APPS))(
    'compose - the environment of %s passes its config validation with NODE_ENV=production',
    (app) => {
      const environment = Object.fromEntries(
        Object.entries(services[app]!.environment ?? {}).map(([k, v]) => [k, interpolate(String(v), DOT_ENV)]),
      );
      expect(environment['NODE_ENV']).toBe('production');
      const result = APPS[app]!.schema.safeParse(environment);
      expect(result.success ? 'valid' : result.error.issues).toBe('valid');
      // A required variable missing from .env stops compose, naming it: the master key where it
      // is needed, the store's own key elsewhere; and no other store is given the master key.
      const needs =
        app === 'gateway' || app === 'secure-store' ? 'MASTER_KEY' : `${app.split('-')[0]!.toUpperCase()}_STORE_KEY`;
      const { [needs]: _unset, ...without } = DOT_ENV;
      expect(() =>
        Object.values(services[app]!.environment ?? {}).forEach((v) => interpolate(String(v), without)),
      ).toThrow(new RegExp(needs));
      if (needs !== 'MASTER_KEY') expect(environment['MASTER_KEY']).toBeUndefined();
    },
  );

  it('compose - the ha profile: three Galera nodes, healthy only when Synced; one may start a new cluster, each decides from its own data how to start', () => {
    for (const name of HA) {
      const node = services[name]!;
      expect(node.profiles).toEqual(['ha']);
      expect(node.image).toBe('mariadb:10.11');
      expect(node.healthcheck?.test).toEqual(['CMD', 'healthcheck.sh', '--connect', '--galera_online']);
      expect(node.volumes).toEqual(
        expect.arrayContaining([
          './deploy/galera/galera.cnf:/etc/mysql/conf.d/galera.cnf:ro',
          './deploy/galera/node.sh:/polystore/node.sh:ro',
          `${name}-data:/var/lib/mysql`,
        ]),
      );
    }
    expect(HA.filter((name) => services[name]!.environment?.GALERA_FIRST === '1')).toEqual(['galera-1']);
    const cnf = readFileSync(new URL('../../deploy/galera/galera.cnf', import.meta.url), 'utf8');
    expect(cnf).toMatch(/^wsrep_cluster_address = gcomm:\/\/galera-1,galera-2,galera-3$/m);
    expect(cnf).toMatch(/^wsrep_sync_wait = 1$/m);
    expect(cnf).toMatch(/pc\.recovery=TRUE/);
    const script = readFileSync(new URL('../../deploy/galera/node.sh', import.meta.url), 'utf8');
    expect(script).toMatch(/safe_to_bootstrap: \*1/);
    expect(script).not.toMatch(/wsrep_sst_auth = root:[^%]/);
  });

  it('compose - the citus profile: schema-based sharding on the coordinator, healthy nodes, workers registered after they are healthy', () => {
    for (const name of CITUS) expect(services[name]!.profiles).toEqual(['citus']);
    expect(JSON.stringify(services['citus-coordinator']!.command)).toContain('citus.enable_schema_based_sharding=on');
    for (const node of CITUS.slice(0, 3)) {
      expect(services[node]!.image).toMatch(/^citusdata\/citus:1[2-9]/);
      expect(JSON.stringify(services[node]!.healthcheck?.test)).toContain('pg_isready');
    }
    const setup = services['citus-setup']!;
    for (const node of CITUS.slice(0, 3)) expect(setup.depends_on?.[node]).toEqual({ condition: 'service_healthy' });
    const sql = JSON.stringify(setup.command);
    expect(sql).toContain("citus_add_node('citus-worker-1', 5432)");
    expect(sql).toContain("citus_add_node('citus-worker-2', 5432)");
  });

  it('compose - the device broker: its config written by the CLI from DEVICE_BROKER_KEY before it starts; the broker-cluster profile routes three nodes', () => {
    const config = services['device-broker-config']!;
    expect(JSON.stringify(config.command)).toContain('"broker","config"');
    expect(config.environment?.['DEVICE_BROKER_KEY']).toMatch(/^\$\{DEVICE_BROKER_KEY:\?/);
    expect(services['device-broker']!.depends_on?.['device-broker-config']).toEqual({
      condition: 'service_completed_successfully',
    });
    expect(services['device-broker']!.ports).toEqual(['${MQTT_PORT:-1884}:1884']);
    for (const name of BROKER_CLUSTER) expect(services[name]!.profiles).toEqual(['broker-cluster']);
    const script = JSON.stringify(services['device-broker-cluster-config']!.command);
    expect(script).toContain('--cluster-name polystore-devices');
    expect(script).toContain('nats-route://device-broker-$$j:6222');
    for (const node of BROKER_CLUSTER.slice(1))
      expect(JSON.stringify(services[node]!.command)).toContain(`/broker/node-${node.slice(-1)}/nats.conf`);
  });

  it("compose - the gateway publishes its public port; its admin port only on the host's loopback (and in the network)", () => {
    const gateway = services['gateway']!;
    expect(gateway.ports).toEqual(['${GATEWAY_PORT:-3000}:3000', '127.0.0.1:${ADMIN_PORT:-3001}:3001']);
    expect(gateway.expose).toEqual(['3001']);
    const config = gatewayConfigSchema.parse(environmentOf('gateway')) as { GATEWAY_PORT: number; ADMIN_PORT: number };
    expect([config.GATEWAY_PORT, config.ADMIN_PORT]).toEqual([3000, 3001]);
    // The probe stays on the public port: /health/live is served there.
    expect(JSON.stringify(gateway.healthcheck?.test)).toContain('127.0.0.1:3000/health/live');
  });

  it('compose - the secure and reliable stores publish no port (replicas share their NATS queue group)', () => {
    expect(services['secure-store']!.ports).toBeUndefined();
    expect(services['reliable-store']!.ports).toBeUndefined();
  });

  it('compose - the bus: nats runs from the config bus-config writes with the CLI, once it succeeded; it listens on 4222 in the network, JetStream on, no anonymous access', () => {
    const config = services['bus-config']!;
    expect(existsSync(`${ROOT}${config.build!.dockerfile}`)).toBe(true);
    const flags = /bus config --dir (\S+) --host (\S+) --port (\d+) --server-name (\S+)/.exec(commandOf(config));
    expect(flags?.slice(1)).toEqual(['/bus', '0.0.0.0', '4222', 'polystore-bus']);
    const [, dir, host, port, serverName] = flags!;
    expect(mounts(config)).toContainEqual({ source: 'bus', target: dir, readOnly: false });

    const nats = services['nats']!;
    expect(nats.command).toEqual(['nats-server', '-c', `${dir}/nats.conf`, '-m', '8222']);
    expect(nats.depends_on?.['bus-config']).toEqual({ condition: 'service_completed_successfully' });
    // The server cannot change its config or the seeds; JetStream writes to a volume of its own.
    expect(mounts(nats)).toContainEqual({ source: 'bus', target: dir, readOnly: true });
    expect(mounts(nats)).toContainEqual({ source: 'nats-data', target: `${dir}/data`, readOnly: false });

    // What `polystore bus config` writes with those flags.
    const conf = busServerConfig({
      serverName: serverName!,
      host: host!,
      port: Number(port),
      storeDir: `${dir}/data`,
      users: BUS_SERVICES.map((service) => ({ service, publicKey: `U-${service}` })),
    });
    expect(conf).toContain(`jetstream { store_dir: "${dir}/data" }`);
    expect(conf).toContain('authorization {');
    // The health check asks the monitoring port the server opens (-m, or the config's own).
    const monitor = /-m (\d+)/.exec(commandOf(nats))?.[1] ?? /^http(?:_port)?:\s*(\d+)/m.exec(conf)?.[1];
    expect(JSON.stringify(nats.healthcheck?.test)).toContain(`http://127.0.0.1:${monitor}/healthz`);
    for (const app of Object.keys(APPS)) expect(environmentOf(app)['NATS_URL']).toBe(`nats://nats:${port}`);
  });

  it.each(Object.keys(APPS))(
    'compose - %s reads only its own bus seed: NATS_NKEY_SEED_FILE in a read-only volume only it mounts, written by bus-config for its user',
    (app) => {
      expect(BUS_SERVICES).toContain(app);
      const environment = environmentOf(app);
      expect(environment['NATS_NKEY_SEED']).toBeUndefined();
      const file = environment['NATS_NKEY_SEED_FILE']!;
      expect(file).toMatch(/^\/.+\/[^/]+$/);
      // The app reads the variable: its seed comes from that file (absent on this machine).
      expect(() => withSecretFiles(APPS[app]!.schema, environment)).toThrow(/NATS_NKEY_SEED_FILE: cannot read/);

      const directory = file.slice(0, file.lastIndexOf('/'));
      const seed = mounts(services[app]!).find((mount) => mount.target === directory);
      expect(seed).toMatchObject({ readOnly: true });
      expect(Object.keys(compose.volumes)).toContain(seed!.source);
      const holders = Object.entries(services)
        .filter(([, service]) => mounts(service).some((mount) => mount.source === seed!.source))
        .map(([name]) => name);
      expect(holders.sort()).toEqual(['bus-config', app].sort());
      // No app mounts the bus volume (every service's seed).
      expect(mounts(services[app]!).map((mount) => mount.source)).not.toContain('bus');

      // bus-config copies this service's seed there, readable by the image's user (node, uid 1000) only.
      const target = mounts(services['bus-config']!).find((mount) => mount.source === seed!.source)!.target;
      expect(commandOf(services['bus-config']!)).toContain(
        `install -m 0400 -o 1000 -g 1000 /bus/creds/${app}.nk ${target}/${file.slice(directory.length + 1)}`,
      );
      expect(services['bus-config']!.user).toBe('root');
      const dockerfile = readFileSync(`${ROOT}${services[app]!.build!.dockerfile}`, 'utf8');
      expect(dockerfile).toMatch(/^FROM node:\S+ AS runtime$/m);
      expect(dockerfile).toMatch(/^USER node$/m);
    },
  );

  it("compose - database logins: db-roles creates them as the servers' superusers once both are healthy, passwords through files", () => {
    const roles = services['db-roles']!;
    expect(existsSync(`${ROOT}${roles.build!.dockerfile}`)).toBe(true);
    expect(roles.depends_on).toEqual({
      postgres: { condition: 'service_healthy' },
      mariadb: { condition: 'service_healthy' },
    });
    const admin = cliConfigSchema.parse(environmentOf('db-roles'));
    expect(admin.DB_ADMIN_URLS).toEqual([
      `postgres://postgres:${DOT_ENV['POSTGRES_PASSWORD']}@postgres:5432`,
      `mysql://root:${DOT_ENV['MARIADB_ROOT_PASSWORD']}@mariadb:3306`,
    ]);
    const script = commandOf(roles);
    expect(script).toContain('node dist/apps/cli/src/main.js db-roles');
    expect(script).toContain('--catalog-database polystore_system');
    // Each password file is written from the container's environment by the shell ($$: not by compose).
    for (const [option, variable] of [
      ['--provisioner-password-file', 'PROVISIONER_PASSWORD'],
      ['--catalog-password-file', 'CATALOG_PASSWORD'],
    ] as const) {
      const file = new RegExp(`${option} (\\S+)`).exec(script)?.[1];
      expect(script).toContain(`printf %s "$$${variable}" > ${file}`);
      expect(roles.environment?.[variable]).toMatch(new RegExp(`^\\$\\{${variable}:\\?`));
    }
    // The MariaDB runtime logins are made here, with passwords derived from the store keys.
    expect(admin.MASTER_KEY).toBeDefined();
    expect(roles.environment?.['MASTER_KEY']).toMatch(/^\$\{MASTER_KEY:\?/);
  });

  it.each(Object.keys(APPS))(
    'compose - %s logs in without a superuser: its catalog login for the system database; the stores hold no provisioning login',
    (app) => {
      const environment = environmentOf(app);
      const system = new URL(environment['SYSTEM_DB_URL']!);
      // The gateway owns the catalog; each store has its own login there, its password derived
      // from its store key (none in the URL).
      const store = app === 'gateway' ? undefined : app.replace(/-store$/, '');
      expect([system.username, system.password, system.host, system.pathname]).toEqual([
        store ? `ps_${store}_catalog` : 'polystore_catalog',
        store ? '' : DOT_ENV['CATALOG_PASSWORD'],
        'postgres:5432',
        '/polystore_system',
      ]);
      // Only the gateway chooses servers: the PostgreSQL stores' runtime logins (no password:
      // derived from the store keys; db-roles' functions make their schemas), MariaDB's
      // provisioning login; the provisioning login of PostgreSQL only for moves.
      const servers = Object.fromEntries(
        Object.entries(environment)
          .filter(([key]) => key.endsWith('_SERVER_URL') || key === 'PROVISIONER_URLS')
          .map(([key, url]) => [key, [new URL(url).username, new URL(url).password]]),
      );
      expect(servers).toEqual(
        store
          ? {}
          : {
              SECURE_SERVER_URL: ['ps_secure_runtime', ''],
              EDGE_SERVER_URL: ['ps_edge_runtime', ''],
              RELIABLE_SERVER_URL: ['polystore_provisioner', DOT_ENV['PROVISIONER_PASSWORD']],
              PROVISIONER_URLS: ['polystore_provisioner', DOT_ENV['PROVISIONER_PASSWORD']],
            },
      );
      if (store) expect(JSON.stringify(environment)).not.toContain(DOT_ENV['PROVISIONER_PASSWORD']);
      for (const value of Object.values(environment)) {
        expect(value).not.toMatch(/\/\/(postgres|root)[:@]/);
        expect(value).not.toContain(DOT_ENV['POSTGRES_PASSWORD']);
        expect(value).not.toContain(DOT_ENV['MARIADB_ROOT_PASSWORD']);
      }
      // Its environment does not even need the superusers' passwords, and does need the logins'.
      const { POSTGRES_PASSWORD: _pg, MARIADB_ROOT_PASSWORD: _maria, ...withoutSuperusers } = DOT_ENV;
      expect(() => environmentOf(app, withoutSuperusers)).not.toThrow();
      const { CATALOG_PASSWORD: _catalog, ...withoutCatalog } = DOT_ENV;
      if (store) expect(() => environmentOf(app, withoutCatalog)).not.toThrow();
      else expect(() => environmentOf(app, withoutCatalog)).toThrow(/CATALOG_PASSWORD/);
    },
  );

  it("compose - the superusers' URLs are given to db-roles only", () => {
    const holders = Object.entries(services)
      .filter(([, service]) =>
        /(postgres|postgresql):\/\/postgres[:@]|(mysql|mariadb):\/\/root[:@]/.test(
          JSON.stringify([service.environment, service.command]),
        ),
      )
      .map(([name]) => name);
    expect(holders).toEqual(['db-roles']);
  });

  it.each(Object.keys(APPS))('compose - %s starts only after bus-config and db-roles succeeded', (app) => {
    expect(startsAfter(app, 'bus-config')).toBe(true);
    expect(startsAfter(app, 'db-roles')).toBe(true);
    expect(startsAfter('nats', 'bus-config')).toBe(true);
  });

  it('compose - no secret is written in the file: passwords, keys and tokens all come from .env', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [key, raw] of Object.entries(service.environment ?? {})) {
        const value = String(raw);
        // A secret variable is exactly an interpolation from .env, nothing written inline.
        if (/PASSWORD|SECRET|TOKEN|MASTER_KEY|BROKER_KEY/.test(key))
          expect({ name, key, value }).toEqual({
            name,
            key,
            value: expect.stringMatching(/^\$\{[A-Z_]+(:[-?][^}]*)?\}$/),
          });
        // A URL with credentials (each of a comma-separated list) takes its password from .env
        // (interpolations masked first).
        for (const url of value.replace(/\$\{[^}]*\}/g, '${}').split(',')) {
          const credentials = /^[a-z]+:\/\/([^@/]*)@/.exec(url.trim())?.[1];
          if (credentials?.includes(':')) expect(credentials.slice(credentials.indexOf(':') + 1)).toBe('${}');
        }
      }
      // Compose interpolates ${...} in a command into the container's arguments: a command refers
      // to the environment only as $${...} / $$VAR, which the container's shell expands.
      expect({ name, command: commandOf(service) }).toEqual({
        name,
        command: expect.not.stringMatching(/(^|[^$])\$\{/),
      });
    }
    for (const value of Object.values(DOT_ENV)) expect(text).not.toContain(value);
    // Every variable the file requires is in DOT_ENV here and in deploy/.env.example for users.
    const example = readFileSync(`${ROOT}deploy/.env.example`, 'utf8');
    const required = [...new Set([...text.matchAll(/\$\{([A-Z0-9_]+):\?/g)].map((match) => match[1]!))];
    expect(required).toEqual(expect.arrayContaining(['PROVISIONER_PASSWORD', 'CATALOG_PASSWORD']));
    for (const name of required) {
      expect(Object.keys(DOT_ENV)).toContain(name);
      expect(example).toMatch(new RegExp(`^${name}=$`, 'm'));
    }
  });
});
