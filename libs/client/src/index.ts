// Public entry of the API client: the client, and the types generated from docs/openapi.json.
import type { components } from './generated/openapi.js';

export { createPolystoreClient, type PolystoreClient, type PolystoreClientOptions } from './polystore-client.js';
export { fetchWithHost } from './host-fetch.js';
export type { components, operations, paths } from './generated/openapi.js';

/** A schema of the API by its name in the OpenAPI document (`ApiSchema<'CustomerDto'>`, `ApiSchema<'ErrorBody'>`). */
export type ApiSchema<Name extends keyof components['schemas']> = components['schemas'][Name];
