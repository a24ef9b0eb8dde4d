import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { createUser } from '@nats-io/nkeys';
import { parseAllDocuments } from 'yaml';
import type { ZodType } from 'zod';
import { edgeStoreConfigSchema } from '../../apps/edge-store/src/config.js';
import { gatewayConfigSchema } from '../../apps/gateway/src/config.js';
import { reliableStoreConfigSchema } from '../../apps/reliable-store/src/config.js';
import { secureStoreConfigSchema } from '../../apps/secure-store/src/config.js';
import { cliConfigSchema } from '../../apps/cli/src/config.js';
import { storeKeyOf } from '#polystore/catalog';
import { contextPublicKeyOf, derivedStoreContextKey } from '#polystore/messaging';
import { withSecretFiles } from '#polystore/platform';

// deploy/k8s/base, checked without a cluster: every object against the Kubernetes JSON schemas
// (kubernetes-models), each app's environment through its own config validation with
// NODE_ENV=production, and what an operator relies on (probes, an autoscaler, secrets only from
// read-only files, nothing running as root). The kustomize build is checked too where kubectl is
// installed (it carries kustomize); the files are checked as they are everywhere.

const ROOT = new URL('../..', import.meta.url).pathname;
const BASE = `${ROOT}deploy/k8s/base`;
const SECRETS = '/run/secrets/polystore';

type K8sObject = { apiVersion: string; kind: string; metadata: { name: string }; [key: string]: unknown };
type Container = {
  name: string;
  ports?: Array<{ name: string; containerPort: number }>;
  env?: Array<{ name: string; value?: string }>;
  envFrom?: Array<{ configMapRef?: { name: string } }>;
  startupProbe?: { httpGet?: { path: string; port: string } };
  readinessProbe?: { httpGet?: { path: string; port: string } };
  livenessProbe?: { httpGet?: { path: string; port: string } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { allowPrivilegeEscalation?: boolean; readOnlyRootFilesystem?: boolean };
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
};
type PodSpec = {
  containers: Container[];
  securityContext?: { runAsNonRoot?: boolean };
  automountServiceAccountToken?: boolean;
  volumes?: Array<{ name: string; secret?: { secretName: string; defaultMode?: number } }>;
};

const APPS: Record<string, ZodType> = {
  gateway: gatewayConfigSchema,
  'secure-store': secureStoreConfigSchema,
  'reliable-store': reliableStoreConfigSchema,
  'edge-store': edgeStoreConfigSchema,
};

/** Valid contents for every secret file an app may mount (placeholders, never real secrets). */
const master = Buffer.alloc(32, 7);
const signing = Buffer.alloc(32, 5);
const SECRET_FILES: Record<string, Record<string, string>> = Object.fromEntries(
  Object.keys(APPS).map((app) => [
    app,
    {
      'system-db-url': 'postgres://polystore_catalog:catalog-placeholder_0123@postgres:5432/polystore_system',
      'nats.nk': new TextDecoder().decode(createUser().getSeed()),
      'master-key': master.toString('base64'),
      'admin-token': 'admin-placeholder-0123456789abcdef',
      'context-signing-key': signing.toString('base64'),
      'context-store-keys': ['secure-store', 'reliable-store', 'edge-store']
        .map((service) => `${service}=${derivedStoreContextKey(signing, service).publicKey}`)
        .join(','),
      'context-verify-keys': contextPublicKeyOf(signing),
      'context-store-key': derivedStoreContextKey(signing, app).privateKey,
      'secure-server-url': 'postgres://polystore_provisioner:provisioner-placeholder_0123@postgres:5432',
      'edge-server-url': 'postgres://polystore_provisioner:provisioner-placeholder_0123@postgres:5432',
      'reliable-server-url': 'mysql://polystore_provisioner:provisioner-placeholder_0123@mariadb:3306',
      'provisioner-urls': 'postgres://polystore_provisioner:provisioner-placeholder_0123@postgres:5432',
      'store-key': app === 'gateway' ? '' : storeKeyOf(master, app.split('-')[0]!).toString('base64'),
      'device-broker-key': Buffer.alloc(32, 9).toString('base64'),
    },
  ]),
);

function hasKubectl(): boolean {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function parseManifests(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((doc) => doc.toJS() as K8sObject | null)
    .filter((object): object is K8sObject => object !== null);
}

const files = readdirSync(BASE).filter((name) => name.endsWith('.yaml') && name !== 'kustomization.yaml');
const objects = files.flatMap((file) => parseManifests(readFileSync(join(BASE, file), 'utf8')));
const kubectl = hasKubectl();
// Straight to stderr: Jest drops the console output of skipped tests in a run of several files.
if (!kubectl)
  process.stderr.write('k8s-manifests: kubectl is not installed: the kustomize build is not checked (the files are)\n');
const config = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'polystore-config') as
  (K8sObject & { data: Record<string, string> }) | undefined;

function deployment(app: string): { spec: { template: { spec: PodSpec } } } {
  const found = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === app);
  if (!found) throw new Error(`no Deployment ${app}`);
  return found as unknown as { spec: { template: { spec: PodSpec } } };
}

/** The model class of kubernetes-models for an object: `kubernetes-models/<group/version>/<Kind>`. */
async function validate(object: K8sObject): Promise<void> {
  const module = (await import(`kubernetes-models/${object.apiVersion}/${object.kind}`)) as Record<
    string,
    new (data: unknown) => { validate(): void }
  >;
  const Model = module[object.kind];
  if (!Model) throw new Error(`no schema for ${object.apiVersion} ${object.kind}`);
  new Model(object).validate();
}

describe('deploy/k8s - manifests of the four services and the ops worker', () => {
  it('k8s - every object of the base passes the Kubernetes schema, and a broken one does not', async () => {
    expect(objects.length).toBeGreaterThanOrEqual(19);
    for (const object of objects) {
      await expect(validate(object).then(() => 'valid')).resolves.toBe('valid');
    }
    // The check can fail: a port given as a string where the schema wants an integer.
    const broken = structuredClone(deployment('gateway')) as unknown as K8sObject & {
      spec: { template: { spec: { containers: Array<{ ports: Array<{ containerPort: unknown }> }> } } };
    };
    broken.spec.template.spec.containers[0]!.ports[0]!.containerPort = 'http';
    await expect(validate(broken)).rejects.toThrow(/containerPort must be integer/);
  });

  it('k8s - kustomization lists every manifest of the folder', () => {
    const kustomization = parseManifests(readFileSync(join(BASE, 'kustomization.yaml'), 'utf8'))[0] as unknown as {
      resources: string[];
    };
    expect([...kustomization.resources].sort()).toEqual([...files].sort());
  });

  (kubectl ? it : it.skip)('k8s - the kustomize build holds the same objects, all in the polystore namespace', () => {
    const built = parseManifests(execFileSync('kubectl', ['kustomize', BASE], { encoding: 'utf8' }));
    expect(built.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(
      objects.map((o) => `${o.kind}/${o.metadata.name}`).sort(),
    );
    for (const object of built) {
      expect((object.metadata as { namespace?: string }).namespace).toBe('polystore');
    }
  });

  it.each(Object.keys(APPS))(
    'k8s - %s: its environment passes its config validation with NODE_ENV=production, secrets only from files',
    (app) => {
      const pod = deployment(app).spec.template.spec;
      const container = pod.containers[0]!;
      expect(container.envFrom).toEqual([{ configMapRef: { name: 'polystore-config' } }]);
      const env: Record<string, string> = { ...config!.data };
      for (const { name, value } of container.env ?? []) env[name] = value!;
      expect(env['NODE_ENV']).toBe('production');

      // Every *_FILE names a file of the app's own Secret, mounted read-only, readable by the owner only.
      const secretVolume = pod.volumes!.find((v) => v.secret)!;
      expect(secretVolume.secret).toEqual({ secretName: `polystore-${app}`, defaultMode: 0o400 });
      expect(container.volumeMounts).toContainEqual({ name: secretVolume.name, mountPath: SECRETS, readOnly: true });
      const dir = mkdtempSync(join(tmpdir(), `k8s-${app}-`));
      const named = new Set<string>();
      for (const [name, path] of Object.entries(env)) {
        if (!name.endsWith('_FILE')) continue;
        expect(path.startsWith(`${SECRETS}/`)).toBe(true);
        const file = path.slice(SECRETS.length + 1);
        expect(Object.keys(SECRET_FILES[app]!)).toContain(file);
        named.add(file);
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, file), SECRET_FILES[app]![file]!);
        env[name] = join(dir, file);
      }
      // No secret given as a plain value: keys, tokens, passwords and URLs with credentials.
      for (const [name, value] of Object.entries(env)) {
        if (name.endsWith('_FILE')) continue;
        expect(name).not.toMatch(/KEY|TOKEN|PASSWORD|SEED/);
        expect(value).not.toMatch(/\/\/[^/]*:[^/]*@/);
      }
      // The manifest's header lists the files of the app's Secret: the list cannot drift.
      const header = readFileSync(join(BASE, `${app}.yaml`), 'utf8').match(/files: (.+?)\.\n/s)![1]!;
      expect(new Set(header.replace(/\n#\s*/g, ' ').split(/,\s*/))).toEqual(named);

      const result = APPS[app]!.safeParse(withSecretFiles(APPS[app]!, env));
      expect(result.success ? 'valid' : result.error.issues).toBe('valid');
      // Only the gateway and the secure store hold the master key.
      expect(named.has('master-key')).toBe(app === 'gateway' || app === 'secure-store');
    },
  );

  it.each(Object.keys(APPS))(
    'k8s - %s: probes on the health route, requests, an autoscaler, a disruption budget, no root',
    (app) => {
      const pod = deployment(app).spec.template.spec;
      const container = pod.containers[0]!;
      for (const probe of [container.startupProbe, container.readinessProbe, container.livenessProbe]) {
        expect(probe?.httpGet).toEqual({ path: '/health/live', port: 'http' });
      }
      expect(container.ports?.find((p) => p.name === 'http')).toBeDefined();
      expect(container.resources?.requests).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
      expect(container.resources?.limits?.['memory']).toBeDefined();
      expect(pod.securityContext?.runAsNonRoot).toBe(true);
      expect(pod.automountServiceAccountToken).toBe(false);
      expect(container.securityContext).toMatchObject({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
      });

      const hpa = objects.find((o) => o.kind === 'HorizontalPodAutoscaler' && o.metadata.name === app) as
        (K8sObject & { spec: { scaleTargetRef: { kind: string; name: string }; minReplicas: number } }) | undefined;
      expect(hpa?.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: app });
      expect(hpa?.spec.minReplicas).toBeGreaterThanOrEqual(2);
      const pdb = objects.find((o) => o.kind === 'PodDisruptionBudget' && o.metadata.name === app);
      expect(pdb).toBeDefined();
      const service = objects.find((o) => o.kind === 'Service' && o.metadata.name === app) as
        (K8sObject & { spec: { selector: Record<string, string> } }) | undefined;
      expect(service?.spec.selector).toEqual({ 'app.kubernetes.io/name': app });
    },
  );

  it('k8s - ops worker: the CLI running `ops worker`, its environment passes the CLI config validation, secrets only from its own files, time to finish a move, no root', () => {
    const pod = deployment('ops-worker').spec.template.spec as PodSpec & { terminationGracePeriodSeconds?: number };
    const container = pod.containers[0]! as Container & { image: string; command: string[] };
    expect(container.command).toEqual(['node', 'dist/apps/cli/src/main.js', 'ops', 'worker']);
    expect(container.image).toBe('polystore/gateway');
    expect(container.envFrom).toEqual([{ configMapRef: { name: 'polystore-config' } }]);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(300);
    expect(pod.securityContext?.runAsNonRoot).toBe(true);
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
    expect(container.resources?.requests).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
    const secretVolume = pod.volumes!.find((v) => v.secret)!;
    expect(secretVolume.secret).toEqual({ secretName: 'polystore-ops-worker', defaultMode: 0o400 });
    expect(container.volumeMounts).toContainEqual({ name: secretVolume.name, mountPath: SECRETS, readOnly: true });

    const env: Record<string, string> = { ...config!.data };
    for (const { name, value } of container.env ?? []) env[name] = value!;
    const files = SECRET_FILES['gateway']!;
    const dir = mkdtempSync(join(tmpdir(), 'k8s-ops-worker-'));
    const named = new Set<string>();
    for (const [name, path] of Object.entries(env)) {
      if (!name.endsWith('_FILE')) continue;
      expect(path.startsWith(`${SECRETS}/`)).toBe(true);
      const file = path.slice(SECRETS.length + 1);
      expect(Object.keys(files)).toContain(file);
      named.add(file);
      writeFileSync(join(dir, file), files[file]!);
      env[name] = join(dir, file);
    }
    for (const [name, value] of Object.entries(env)) {
      if (name.endsWith('_FILE')) continue;
      expect(name).not.toMatch(/KEY|TOKEN|PASSWORD|SEED/);
      expect(value).not.toMatch(/\/\/[^/]*:[^/]*@/);
    }
    const header = readFileSync(join(BASE, 'ops-worker.yaml'), 'utf8').match(/files: (.+?)\.\n/s)![1]!;
    expect(new Set(header.replace(/\n#\s*/g, ' ').split(/,\s*/))).toEqual(named);
    // The administrative server URLs a move to a store's default server connects with.
    for (const file of ['secure-server-url', 'reliable-server-url', 'edge-server-url', 'master-key'])
      expect(named.has(file)).toBe(true);
    const result = cliConfigSchema.safeParse(withSecretFiles(cliConfigSchema, env));
    expect(result.success ? 'valid' : result.error.issues).toBe('valid');
    const pdb = objects.find((o) => o.kind === 'PodDisruptionBudget' && o.metadata.name === 'ops-worker');
    expect(pdb).toBeDefined();
  });

  it('k8s - the NATS bus and device broker come from the official chart, pinned', () => {
    const nats = parseManifests(readFileSync(`${ROOT}deploy/k8s/nats/kustomization.yaml`, 'utf8'))[0] as unknown as {
      helmCharts: Array<{ name: string; repo: string; version: string; releaseName: string; valuesFile: string }>;
    };
    expect(nats.helmCharts.map((c) => c.releaseName).sort()).toEqual(['device-broker', 'nats']);
    for (const chart of nats.helmCharts) {
      expect(chart).toMatchObject({ name: 'nats', repo: 'https://nats-io.github.io/k8s/helm/charts/' });
      expect(chart.version).toMatch(/^\d+\.\d+\.\d+$/);
      const values = parseManifests(
        readFileSync(`${ROOT}deploy/k8s/nats/${chart.valuesFile}`, 'utf8'),
      )[0] as unknown as {
        config: { cluster: { enabled: boolean; replicas: number }; jetstream: { enabled: boolean } };
      };
      expect(values.config.cluster).toEqual({ enabled: true, replicas: 3 });
      expect(values.config.jetstream.enabled).toBe(true);
    }
    // The apps reach them by the releases' service names.
    expect(config!.data['NATS_URL']).toBe('nats://nats:4222');
    const edgeEnv = deployment('edge-store').spec.template.spec.containers[0]!.env!;
    expect(edgeEnv).toContainEqual({ name: 'DEVICE_BROKER_URL', value: 'nats://device-broker:4222' });
  });
});
