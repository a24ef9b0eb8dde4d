import type { Demo } from './demo-tenant.js';

export interface BannerFacts {
  readonly gatewayUrl: string;
  /** The gateway's admin port (loopback): admin API, OpenAPI, metrics, readiness. */
  readonly adminUrl: string;
  readonly ingestUrl: string;
  readonly postgresUrl: string;
  readonly home: string;
  readonly baseDomain: string;
  readonly gatewayPort: number;
  readonly startedInMs: number;
  readonly demo?: Demo;
}

/** The text `npm start` prints once ready: where everything is, the demo's keys, commands to paste. */
export function banner(facts: BannerFacts): string {
  const day = 86_400_000;
  const range = `from=${isoDay(Date.now() - 90 * day)}&to=${isoDay(Date.now() + 90 * day)}`;
  const tenantUrl = `http://${facts.demo?.tenant ?? '<tenant>'}.${facts.baseDomain}:${facts.gatewayPort}`;
  const lines = [
    '',
    `Polystore is ready (${(facts.startedInMs / 1000).toFixed(1)} s): gateway and secure, reliable and edge stores in one process,`,
    'an embedded PostgreSQL (PGlite) and in-process messaging. No server was needed.',
    '',
    `  Gateway         ${facts.gatewayUrl}   (the tenant API; health: ${facts.gatewayUrl}/health/live)`,
    `  Admin API       ${facts.adminUrl}   (this machine only; OpenAPI: ${facts.adminUrl}/docs, health: ${facts.adminUrl}/health/ready, metrics: ${facts.adminUrl}/metrics; token: adminToken in ${facts.home}/dev-secrets.json)`,
    `  Device ingest   ${facts.ingestUrl}   (HTTP; MQTT needs the full stack: docker compose up)`,
    `  PostgreSQL      ${facts.postgresUrl}   (embedded; psql works)`,
    `  Data            ${facts.home}   (kept across restarts; delete it to start over)`,
  ];
  if (facts.demo) {
    const { demo } = facts;
    const auth = `-H 'Authorization: Bearer ${demo.apiKey}'`;
    const json = `-H 'Content-Type: application/json'`;
    lines.push(
      '',
      `  Demo tenant     ${demo.tenant}   API key: ${demo.apiKey}`,
      `  Demo device     ${demo.deviceId}   token: ${demo.deviceToken}`,
      '',
      'Try it:',
      '',
      '  # 1. Create a customer (name, email and phone are encrypted in the secure store)',
      `  curl -s ${tenantUrl}/v1/customers ${auth} ${json} -d '{"name":"Ada Lovelace","email":"ada@example.com"}'`,
      '',
      '  # 2. Register a device (a saga across the reliable, secure and edge stores); the answer holds its token',
      `  curl -s ${tenantUrl}/v1/devices ${auth} ${json} -d '{"name":"Boiler room meter","model":"th-1"}'`,
      '',
      '  # 3. Push a reading as the demo device, then read its telemetry back',
      `  curl -s ${facts.ingestUrl} -H 'Authorization: Bearer ${demo.deviceToken}' ${json} -d "{\\"seq\\":$(date +%s),\\"ts\\":$(date +%s)000,\\"metrics\\":{\\"temperature\\":21.5}}"`,
      `  curl -s "${tenantUrl}/v1/devices/${demo.deviceId}/telemetry?${range}" ${auth}`,
    );
  }
  lines.push('', 'Ctrl-C stops everything.', '');
  return lines.join('\n');
}

function isoDay(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 10)}T00:00:00Z`;
}
