import createClient, { type Client } from 'openapi-fetch';
import type { paths } from './generated/openapi.js';
import { fetchWithHost } from './host-fetch.js';

/** A typed client of the whole API: every path of `docs/openapi.json`, its parameters, bodies and answers. */
export type PolystoreClient = Client<paths>;

export interface PolystoreClientOptions {
  /** Where to send requests: the gateway's public port (tenant routes), its admin port (admin routes), or the edge store (device ingest). */
  readonly baseUrl: string;
  /** Sent as `Authorization: Bearer <token>`: an API key, the admin token or a device credential. */
  readonly token?: string;
  /**
   * The Host header to send when the base URL's host is not the one the gateway expects (a
   * tenant's `<slug>.<BASE_DOMAIN>` that DNS does not resolve, e.g. on localhost): requests then
   * go through `node:http` (see {@link fetchWithHost}).
   */
  readonly host?: string;
}

/**
 * An `openapi-fetch` client typed by the types generated from the committed OpenAPI document:
 * `client.GET('/v1/customers/{id}', { params: { path: { id } } })` answers `{ data }` typed by the
 * 200 schema or `{ error }` typed by the error body. It checks nothing at run time: the types are
 * the contract, and `tsc` fails on a call that no longer matches the document.
 */
export function createPolystoreClient(options: PolystoreClientOptions): PolystoreClient {
  return createClient<paths>({
    baseUrl: options.baseUrl,
    headers: options.token ? { authorization: `Bearer ${options.token}` } : {},
    ...(options.host ? { fetch: fetchWithHost(options.host) } : {}),
  });
}
