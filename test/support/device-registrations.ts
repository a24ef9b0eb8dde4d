import type { HttpResponse } from './http.js';
import type { TestStack, TestTenant } from './stack.js';

/**
 * `POST /v1/devices {name, model: 'EM-340'}` for `tenant`, with `key` as its Idempotency-Key:
 * one registration attempt as a client sends it.
 */
export function registerDevice(stack: TestStack, tenant: TestTenant, name: string, key: string) {
  return stack.request({
    method: 'POST',
    path: '/v1/devices',
    body: { name, model: 'EM-340' },
    headers: { 'idempotency-key': key },
    tenant: tenant.slug,
    apiKey: tenant.apiKey,
  });
}

/** What each store holds of some devices, read straight from the tenant's data in each store. */
export interface DeviceHoldings {
  /** Reliable store registry: device id -> status. */
  readonly registry: Map<string, string>;
  /** Secure store: devices with a credential generation in use (recorded, not revoked). */
  readonly credentials: Set<string>;
  /** Edge store: device id -> credential status (active, revoked), any status. */
  readonly edge: Map<string, string>;
}

/** The registry rows, secure credentials and edge credentials of `ids` in tenant `slug`. */
export async function deviceHoldings(stack: TestStack, slug: string, ids: readonly string[]): Promise<DeviceHoldings> {
  if (ids.length === 0) return { registry: new Map(), credentials: new Set(), edge: new Map() };
  const registry = await stack.tenantSql<{ id: string; status: string }>(
    slug,
    'reliable',
    'SELECT id, status FROM devices WHERE id IN (?)',
    [ids],
  );
  const credentials = await stack.tenantSql<{ id: string }>(
    slug,
    'secure',
    'SELECT DISTINCT device_id::text AS id FROM device_credentials WHERE device_id = ANY($1::uuid[]) AND revoked_at IS NULL',
    [ids],
  );
  const edge = await stack.tenantSql<{ id: string; status: string }>(
    slug,
    'edge',
    'SELECT device_id::text AS id, status FROM device_credentials WHERE device_id = ANY($1::uuid[])',
    [ids],
  );
  return {
    registry: new Map(registry.map((r) => [r.id, r.status])),
    credentials: new Set(credentials.map((r) => r.id)),
    edge: new Map(edge.map((r) => [r.id, r.status])),
  };
}

/** One registration as a client saw it: every status it got (0: no connection), and the last answer. */
export interface ClientRegistration {
  readonly key: string;
  readonly name: string;
  readonly answer: HttpResponse<any> | undefined;
  readonly seen: number[];
}

/**
 * What a well-behaved client does: sends the same Idempotency-Key again (every 150 ms) until the
 * answer is final (201, or a 4xx other than 429), or until `giveUpAt()` has passed.
 */
export async function registerUntilFinal(
  register: (name: string, key: string) => Promise<HttpResponse<any>>,
  name: string,
  key: string,
  giveUpAt: () => number,
): Promise<ClientRegistration> {
  const seen: number[] = [];
  for (;;) {
    let answer: HttpResponse<any> | undefined;
    try {
      answer = await register(name, key);
      seen.push(answer.status);
      if (answer.status === 201 || (answer.status >= 400 && answer.status < 500 && answer.status !== 429))
        return { key, name, answer, seen };
    } catch {
      seen.push(0); // the gateway is down: connection refused
    }
    if (Date.now() > giveUpAt()) return { key, name, answer, seen };
    await new Promise((resolve) => setTimeout(resolve, 150)); // the client's own retry pace
  }
}

/** A device's credential history as the API answers it: `[generation, still in use]`, newest first. */
export async function credentialGenerations(
  stack: TestStack,
  tenant: TestTenant,
  deviceId: string,
): Promise<Array<[number, boolean]>> {
  const history = await stack.request({
    method: 'GET',
    path: `/v1/devices/${deviceId}/credentials`,
    tenant: tenant.slug,
    apiKey: tenant.apiKey,
  });
  if (history.status !== 200) throw new Error(`credential history of ${deviceId}: ${history.status}`);
  return (history.body.items as Array<{ generation: number; revokedAt: string | null }>).map((g) => [
    g.generation,
    g.revokedAt === null,
  ]);
}
