import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { createMetricsRegistry } from '#polystore/platform';
import { promtoolPath } from '../support/metrics-lint.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const DEPLOY = `${ROOT}deploy/observability/`;

type Service = {
  image?: string;
  profiles?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  expose?: string[];
  depends_on?: Record<string, { condition: string }>;
  command?: string[];
};
const compose = parse(readFileSync(`${ROOT}docker-compose.yml`, 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const services = compose.services;

const prometheus = parse(readFileSync(`${DEPLOY}prometheus/prometheus.yml`, 'utf8')) as {
  rule_files: string[];
  scrape_configs: Array<{ job_name: string; dns_sd_configs: Array<{ names: string[]; type: string; port: number }> }>;
};
const rules = parse(readFileSync(`${DEPLOY}prometheus/alerts.yml`, 'utf8')) as {
  groups: Array<{ name: string; rules: Array<{ alert: string; expr: string; labels: { severity: string } }> }>;
};
const dashboard = JSON.parse(readFileSync(`${DEPLOY}grafana/dashboards/polystore.json`, 'utf8')) as {
  uid: string;
  panels: Array<{ type: string; title: string; targets?: Array<{ expr: string; datasource: { uid: string } }> }>;
};
const datasources = parse(readFileSync(`${DEPLOY}grafana/provisioning/datasources/datasources.yml`, 'utf8')) as {
  datasources: Array<{ uid: string; type: string; url: string }>;
};
const providers = parse(readFileSync(`${DEPLOY}grafana/provisioning/dashboards/dashboards.yml`, 'utf8')) as {
  providers: Array<{ options: { path: string } }>;
};

/** A compose volume `./host:/container[:ro]` as its parts. */
function mount(volume: string): { source: string; target: string; readOnly: boolean } {
  const [source, target, mode] = volume.split(':');
  return { source: source!, target: target!, readOnly: mode === 'ro' };
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = `${dir}/${entry}`;
    if (statSync(path).isDirectory()) return entry === 'node_modules' ? [] : sourceFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.spec.ts') ? [path] : [];
  });
}

/**
 * The metric names the code can export: prom-client's defaults as the registry keeps them, and
 * every `polystore_...` string the apps and libs hold (a superset: database names are in it too,
 * which no rule uses).
 */
function exportedNames(): Set<string> {
  const names = new Set(
    createMetricsRegistry('test')
      .getMetricsAsArray()
      .map((m) => m.name),
  );
  for (const dir of ['apps', 'libs'])
    for (const file of sourceFiles(`${ROOT}${dir}`))
      for (const match of readFileSync(file, 'utf8').matchAll(/'(polystore_[a-z0-9_]+)'/g)) names.add(match[1]!);
  return names;
}

/** The `polystore_` names a PromQL expression reads (a histogram's series by their family's name). */
function namesIn(expr: string): string[] {
  return [...expr.matchAll(/\b(polystore_[a-z0-9_]+)/g)].map((m) => m[1]!.replace(/_(bucket|sum|count)$/, ''));
}

const APPS = [
  { service: 'gateway', port: 'ADMIN_PORT' },
  { service: 'secure-store', port: 'SECURE_HTTP_PORT' },
  { service: 'reliable-store', port: 'RELIABLE_HTTP_PORT' },
  { service: 'edge-store', port: 'EDGE_HTTP_PORT' },
];

/**
 * deploy/observability and the `observability` compose profile, checked statically (no Docker
 * engine here): what the containers mount exists, Prometheus scrapes each app's /metrics port,
 * the rules and the dashboard use names the code exports, and promtool (when installed) accepts
 * the config and the rules and passes their unit tests.
 */
describe('observability - deploy/observability and the compose profile, checked statically', () => {
  it('observability - the profile runs prometheus, grafana and jaeger (OTLP on), their UIs on the loopback only, from files that exist', () => {
    for (const name of ['prometheus', 'grafana', 'jaeger']) {
      const service = services[name]!;
      expect(service.profiles).toEqual(['observability']);
      expect(service.image).toMatch(/:[0-9v]/); // a pinned tag, never latest
      for (const port of service.ports ?? []) expect(port).toMatch(/^127\.0\.0\.1:/);
      for (const volume of service.volumes ?? []) {
        const { source } = mount(volume);
        if (source.startsWith('./')) expect(existsSync(`${ROOT}${source}`)).toBe(true);
        else expect(Object.keys(compose.volumes)).toContain(source);
      }
    }
    expect(services['jaeger']!.environment?.['COLLECTOR_OTLP_ENABLED']).toBe('true');
    expect(services['jaeger']!.expose).toEqual(['4317', '4318']);

    const config = services['prometheus']!.volumes!.map(mount).find((m) => m.target === '/etc/prometheus')!;
    expect(config).toEqual({ source: './deploy/observability/prometheus', target: '/etc/prometheus', readOnly: true });
    expect(services['prometheus']!.command).toContain('--config.file=/etc/prometheus/prometheus.yml');
    for (const file of prometheus.rule_files) expect(existsSync(`${DEPLOY}prometheus/${file}`)).toBe(true);

    const grafana = services['grafana']!;
    const mounts = grafana.volumes!.map(mount);
    expect(mounts).toContainEqual({
      source: './deploy/observability/grafana/provisioning',
      target: '/etc/grafana/provisioning',
      readOnly: true,
    });
    const dashboards = mounts.find((m) => m.source === './deploy/observability/grafana/dashboards');
    expect(providers.providers.map((p) => p.options.path)).toEqual([dashboards?.target]);
    expect(grafana.environment?.['GF_SECURITY_ADMIN_PASSWORD']).toMatch(/^\$\{GRAFANA_ADMIN_PASSWORD:\?/);
    // The data sources are the services of the profile.
    const hosts = datasources.datasources.map((d) => new URL(d.url).hostname);
    expect(hosts.sort()).toEqual(['jaeger', 'prometheus']);
    for (const host of hosts) expect(grafana.depends_on?.[host]).toBeDefined();
  });

  it.each(APPS)(
    'observability - prometheus scrapes every replica of $service on its /metrics port',
    ({ service, port }) => {
      const job = prometheus.scrape_configs.find((c) => c.job_name === `polystore-${service}`);
      expect(job?.dns_sd_configs).toEqual([
        { names: [service], type: 'A', port: Number(services[service]!.environment![port]) },
      ]);
    },
  );

  it('observability - every metric the alert rules and the dashboard use is one the code exports', () => {
    const exported = exportedNames();
    const used = [
      ...rules.groups.flatMap((g) => g.rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr }))),
      ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel ${p.title}`, expr: t.expr }))),
    ];
    expect(used.length).toBeGreaterThan(40);
    const unknown = used.flatMap(({ where, expr }) =>
      namesIn(expr)
        .filter((name) => !exported.has(name))
        .map((name) => `${where}: ${name}`),
    );
    expect(unknown).toEqual([]);
    // The areas the issue names each have a rule.
    const everything = used.map((u) => u.expr).join('\n');
    for (const name of [
      'polystore_saga_step_seconds',
      'polystore_outbox_oldest_event_age_seconds',
      'polystore_job_last_success_timestamp_seconds',
      'polystore_ingest_lag_seconds',
      'polystore_ingest_dead_letters_total',
      'polystore_pool_wait_seconds',
    ])
      expect(everything).toContain(name);
    for (const rule of rules.groups.flatMap((g) => g.rules))
      expect(['critical', 'warning', 'info']).toContain(rule.labels.severity);
  });

  it('observability - the dashboard: every panel reads a provisioned data source', () => {
    const uids = datasources.datasources.map((d) => d.uid);
    const targets = dashboard.panels.flatMap((p) => p.targets ?? []);
    expect(targets.length).toBeGreaterThan(20);
    for (const target of targets) expect(uids).toContain(target.datasource.uid);
    expect(dashboard.uid).toBe('polystore-overview');
  });

  const promtool = promtoolPath();
  (promtool ? it : it.skip)(
    'observability - promtool accepts the config and the rules, and the rules pass their unit tests',
    () => {
      for (const args of [
        ['check', 'config', `${DEPLOY}prometheus/prometheus.yml`],
        ['check', 'rules', `${DEPLOY}prometheus/alerts.yml`],
        ['test', 'rules', `${DEPLOY}prometheus/alerts.test.yml`],
      ]) {
        const result = spawnSync(promtool!, args, { encoding: 'utf8' });
        expect({ args, status: result.status, output: result.stderr }).toEqual({ args, status: 0, output: '' });
      }
    },
  );
});
