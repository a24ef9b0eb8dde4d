import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import type { ZodType } from 'zod';
import { edgeStoreConfigSchema } from '../../apps/edge-store/src/config.js';
import { gatewayConfigSchema } from '../../apps/gateway/src/config.js';
import { reliableStoreConfigSchema } from '../../apps/reliable-store/src/config.js';
import { secureStoreConfigSchema } from '../../apps/secure-store/src/config.js';
import { storeKeyOf } from '#polystore/catalog';
import { contextPublicKeyOf, derivedStoreContextKey } from '#polystore/messaging';

const ROOT = new URL('../..', import.meta.url).pathname;

/** What `.env` would hold (placeholders): every `${VAR:?...}` must be one of these. */
const DOT_ENV: Record<string, string> = {
  POSTGRES_PASSWORD: 'pg-placeholder-0123456789',
  MARIADB_ROOT_PASSWORD: 'maria-placeholder-0123456789',
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
  healthcheck?: { test: unknown };
  ports?: string[];
  container_name?: string;
  command?: string | string[];
};

const text = readFileSync(`${ROOT}docker-compose.yml`, 'utf8');
const compose = parse(text, { merge: true }) as { services: Record<string, Service> };
const services = compose.services;

const APPS: Record<string, { schema: ZodType; servers: string[] }> = {
  gateway: { schema: gatewayConfigSchema, servers: ['postgres', 'nats'] },
  'secure-store': { schema: secureStoreConfigSchema, servers: ['postgres', 'nats'] },
  'reliable-store': { schema: reliableStoreConfigSchema, servers: ['postgres', 'mariadb', 'nats'] },
  'edge-store': { schema: edgeStoreConfigSchema, servers: ['postgres', 'nats', 'device-broker'] },
};
const SERVERS = ['postgres', 'mariadb', 'nats', 'device-broker'];
/** One-shot jobs that run before a server (no health check: compose waits for their success). */
const JOBS = ['device-broker-config'];
/** The `broker-cluster` profile: three device-broker nodes and the job that writes their configs. */
const BROKER_CLUSTER = ['device-broker-cluster-config', 'device-broker-1', 'device-broker-2', 'device-broker-3'];
/** The `citus` profile: a coordinator, two workers and the one-shot that registers them. */
const CITUS = ['citus-coordinator', 'citus-worker-1', 'citus-worker-2', 'citus-setup'];

/**
 * docker-compose.yml, checked statically (no Docker engine here): every server and app is
 * there, each app builds from its Dockerfile, starts after healthy servers, has a health check,
 * and its environment passes the app's own config validation in production; no secret is
 * written in the file.
 */
describe('docker-compose.yml - the full stack, checked statically', () => {
  it('compose - every server and every app is a service; the servers have health checks; NATS runs JetStream', () => {
    expect(Object.keys(services).sort()).toEqual(
      [...SERVERS, ...JOBS, ...Object.keys(APPS), ...CITUS, ...BROKER_CLUSTER].sort(),
    );
    // The default `docker compose up` starts no Citus and no broker-cluster service.
    const byDefault = Object.entries(services).filter(([, s]) => !s.profiles);
    expect(byDefault.map(([name]) => name).sort()).toEqual([...SERVERS, ...JOBS, ...Object.keys(APPS)].sort());
    for (const server of SERVERS) expect(services[server]!.healthcheck?.test).toBeDefined();
    expect(JSON.stringify(services['nats']!.command)).toMatch(/-js|--jetstream/);
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

  it('compose - the secure and reliable stores publish no port (replicas share their NATS queue group)', () => {
    expect(services['secure-store']!.ports).toBeUndefined();
    expect(services['reliable-store']!.ports).toBeUndefined();
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
        // A URL with credentials takes its password from .env (interpolations masked first).
        const masked = value.replace(/\$\{[^}]*\}/g, '${}');
        const credentials = /^[a-z]+:\/\/([^@/]*)@/.exec(masked)?.[1];
        if (credentials?.includes(':')) expect(credentials.slice(credentials.indexOf(':') + 1)).toBe('${}');
      }
    }
    for (const value of Object.values(DOT_ENV)) expect(text).not.toContain(value);
  });
});
