// Writes the API description from the compiled apps (run `npm run build` first; `npm run openapi`
// does both): docs/openapi.json, the gateway's OpenAPI document with the edge store's device API
// (Nest's preview mode: no database, NATS or port), and libs/client/src/generated/openapi.ts, the
// client's types generated from it by openapi-typescript. Both files are committed;
// test/unit/openapi-document.spec.ts fails when either differs from what the sources produce.
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import openapiTS, { astToString } from 'openapi-typescript';

/** First line of the generated types (the test makes the same file: keep the two in step). */
const CLIENT_TYPES_HEADER =
  '// Generated from docs/openapi.json by `npm run openapi` (openapi-typescript): do not edit.\n\n';

const dist = (path) => import(new URL(`../dist/${path}`, import.meta.url).href);
const { gatewayOpenApiDocument } = await dist('apps/gateway/src/openapi/openapi-document.js');
const { deviceIngestOpenApiDocument } = await dist('apps/edge-store/src/ingest/ingest.openapi.js');
const { mergeOpenApiDocuments } = await dist('libs/runtime/src/index.js');

const document = mergeOpenApiDocuments(await gatewayOpenApiDocument(), await deviceIngestOpenApiDocument());
const json = `${JSON.stringify(document, null, 2)}\n`;
// The same call as the test's: a copy, since openapi-typescript resolves references in place.
const types = `${CLIENT_TYPES_HEADER}${astToString(await openapiTS(JSON.parse(json)))}`;

writeFileSync(new URL('../docs/openapi.json', import.meta.url), json);
writeFileSync(new URL('../libs/client/src/generated/openapi.ts', import.meta.url), types);
console.log(
  `docs/openapi.json: ${Object.keys(document.paths).length} paths; libs/client/src/generated/openapi.ts: ${types.length} characters`,
);
