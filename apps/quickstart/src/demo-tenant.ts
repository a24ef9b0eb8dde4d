import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jsonRequest, resolveAdminToken } from '#polystore/runtime';

/** The demo tenant and device the banner's commands use; kept in `<QUICKSTART_DIR>/demo.json` (mode 0600). */
export interface Demo {
  readonly tenant: string;
  readonly apiKey: string;
  readonly deviceId: string;
  readonly deviceToken: string;
}

const TENANT = 'demo';

/**
 * Returns the demo tenant, creating it (and a registered device) through the gateway's own HTTP
 * API on first start. Its keys are shown once by the API, so they are kept in the quickstart's
 * folder next to its development secrets; a restart reads them back.
 */
export async function ensureDemo(options: {
  readonly home: string;
  readonly gatewayPort: number;
  /** The gateway's admin port: the tenant is created through the admin API. */
  readonly adminPort: number;
  readonly baseDomain: string;
}): Promise<Demo> {
  const file = join(options.home, 'demo.json');
  // Saved after each step: a start stopped between the tenant and the device resumes at the device.
  const saved = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<Demo>) : {};
  const save = (demo: Partial<Demo>): void => writeFileSync(file, JSON.stringify(demo, null, 2), { mode: 0o600 });
  if (saved.apiKey && saved.deviceId && saved.deviceToken) return saved as Demo;

  const gateway = new URL(`http://127.0.0.1:${options.gatewayPort}`);
  const admin = new URL(`http://127.0.0.1:${options.adminPort}`);
  const call = <T>(method: string, path: string, host: string, bearer: string, body?: unknown) =>
    jsonRequest<T & { message?: unknown }>({
      method,
      url: new URL(path, path.startsWith('/admin/') ? admin : gateway),
      host,
      bearer,
      body,
      timeoutMs: 120_000,
    });

  let apiKey = saved.apiKey;
  if (!apiKey) {
    const adminToken = resolveAdminToken({ DEV_SECRETS_FILE: join(options.home, 'dev-secrets.json') });
    const tenant = await call<{ apiKey: string }>('POST', '/admin/tenants', options.baseDomain, adminToken, {
      slug: TENANT,
      name: 'Demo organization',
    });
    if (tenant.status === 409) {
      throw new Error(
        `the demo tenant exists but ${file} (its API key) is gone; delete ${options.home} to start over, ` +
          `or set QUICKSTART_DEMO=false`,
      );
    }
    if (tenant.status !== 201)
      throw new Error(`creating the demo tenant: HTTP ${tenant.status} ${JSON.stringify(tenant.body)}`);
    apiKey = tenant.body.apiKey;
    save({ tenant: TENANT, apiKey });
  }

  const device = await call<{ id: string; token: string }>(
    'POST',
    '/v1/devices',
    `${TENANT}.${options.baseDomain}`,
    apiKey,
    {
      name: 'Demo sensor',
      model: 'quickstart',
    },
  );
  if (device.status !== 201)
    throw new Error(`registering the demo device: HTTP ${device.status} ${JSON.stringify(device.body)}`);

  const demo: Demo = { tenant: TENANT, apiKey, deviceId: device.body.id, deviceToken: device.body.token };
  save(demo);
  return demo;
}
