import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { OpenAPIObject } from '@nestjs/swagger';
import openapiTS, { astToString } from 'openapi-typescript';
import { z } from 'zod';
import {
  Contracts,
  GatewayRequestBodies,
  auditListQuerySchema,
  auditVerifyQuerySchema,
  createCustomerBodySchema,
  listDevicesQuerySchema,
  openApiSchemaOf,
  registerDeviceBodySchema,
  sagaListQuerySchema,
  searchCustomersBodySchema,
  telemetryQuerySchema,
  usageQuerySchema,
} from '#polystore/messaging';
import { mergeOpenApiDocuments } from '#polystore/runtime';
import { deviceIngestOpenApiDocument } from '../../apps/edge-store/src/ingest/ingest.openapi.js';
import { gatewayOpenApiDocument } from '../../apps/gateway/src/openapi/openapi-document.js';

/** The first line scripts/openapi.mjs writes above the generated types (keep the two in step). */
const CLIENT_TYPES_HEADER =
  '// Generated from docs/openapi.json by `npm run openapi` (openapi-typescript): do not edit.\n\n';
const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;
const REGENERATE = 'run `npm run openapi` and commit docs/openapi.json and libs/client/src/generated/openapi.ts';

interface Operation {
  operationId?: string;
  summary?: string;
  parameters?: Array<{ name: string; in: string; required?: boolean; description?: string; schema?: unknown }>;
  requestBody?: { content: Record<string, { schema?: { $ref?: string } }> };
  responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>;
}

const committed = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

/** Every operation of the document, with its method and path. */
function operationsOf(document: OpenAPIObject): Array<{ name: string; path: string; operation: Operation }> {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    METHODS.flatMap((method) => {
      const operation = (item as Record<string, Operation | undefined>)[method];
      return operation ? [{ name: `${method.toUpperCase()} ${path}`, path, operation }] : [];
    }),
  );
}

describe('openapi - the committed API description is the one the code produces', () => {
  let document: OpenAPIObject;

  beforeAll(async () => {
    document = mergeOpenApiDocuments(await gatewayOpenApiDocument(), await deviceIngestOpenApiDocument());
  }, 60_000);

  it(`openapi - docs/openapi.json is what the controllers and contracts produce (else ${REGENERATE})`, () => {
    expect(JSON.parse(committed('docs/openapi.json'))).toEqual(JSON.parse(JSON.stringify(document)));
  });

  it(`openapi - the client's generated types are those of docs/openapi.json (else ${REGENERATE})`, async () => {
    const types = `${CLIENT_TYPES_HEADER}${astToString(await openapiTS(JSON.parse(committed('docs/openapi.json'))))}`;
    expect(committed('libs/client/src/generated/openapi.ts') === types).toBe(true);
  }, 60_000);

  it('openapi - every operation has a unique operationId and a summary', () => {
    const operations = operationsOf(document);
    expect(operations.length).toBeGreaterThan(30);
    expect(
      operations.filter(({ operation }) => !operation.operationId || !operation.summary).map((o) => o.name),
    ).toEqual([]);
    const ids = operations.map(({ operation }) => operation.operationId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('openapi - every error answer has the one error body, and every operation documents its 401 and 500', () => {
    const operations = operationsOf(document).filter(({ path }) => !path.startsWith('/health/'));
    const errors = operations.flatMap(({ name, operation }) =>
      Object.entries(operation.responses)
        .filter(([status]) => Number(status) >= 400)
        .map(([status, response]) => ({ name, status, ref: response.content?.['application/json']?.schema?.$ref })),
    );
    expect(errors.filter((e) => e.ref !== '#/components/schemas/ErrorBody')).toEqual([]);
    const lacking = operations.filter(({ operation }) => !operation.responses['401'] || !operation.responses['500']);
    expect(lacking.map((o) => o.name)).toEqual([]);
    expect(document.components?.schemas?.['ErrorBody']).toMatchObject({
      required: ['statusCode', 'code', 'message', 'correlationId'],
    });
  });

  it('openapi - every request body and query parameter of the gateway is the contract schema it is validated with', () => {
    const gatewayOperations = operationsOf(document).filter(({ path }) => !document.paths[path]!.servers);
    const bodies = gatewayOperations.flatMap(({ name, operation }) =>
      operation.requestBody ? [{ name, ref: operation.requestBody.content['application/json']?.schema?.$ref }] : [],
    );
    expect(bodies.length).toBeGreaterThanOrEqual(10);
    const named = Object.keys(GatewayRequestBodies).map((body) => `#/components/schemas/${body}`);
    expect(bodies.filter(({ ref }) => !ref || !named.includes(ref))).toEqual([]);
    for (const [body, schema] of Object.entries(GatewayRequestBodies)) {
      expect({ body, schema: document.components?.schemas?.[body] }).toEqual({ body, schema: openApiSchemaOf(schema) });
    }

    const queries: Record<string, z.ZodObject> = {
      listDevices: listDevicesQuerySchema,
      getDeviceTelemetry: telemetryQuerySchema,
      queryUsage: usageQuerySchema,
      listAuditEntries: auditListQuerySchema,
      verifyAuditLog: auditVerifyQuerySchema,
      listSagas: sagaListQuerySchema,
    };
    for (const { operation } of gatewayOperations) {
      const documented = (operation.parameters ?? [])
        .filter((p) => p.in === 'query')
        .map(({ name, required, description, schema }) => ({ name, required, description, schema }))
        .sort((a, b) => a.name.localeCompare(b.name));
      const query = queries[operation.operationId!];
      const expected = Object.entries(query?.shape ?? {})
        .map(([name, field]) => {
          const { description, ...schema } = openApiSchemaOf(field as z.ZodType);
          return { name, required: !(field as z.ZodType).safeParse(undefined).success, description, schema };
        })
        .sort((a, b) => a.name.localeCompare(b.name));
      expect({ operation: operation.operationId, query: documented }).toEqual({
        operation: operation.operationId,
        query: expected,
      });
    }
  });

  it("openapi - a route that passes its input to a store validates it with that store's contract fields", () => {
    const pairs: Array<[z.ZodObject, z.ZodObject, string[]]> = [
      [createCustomerBodySchema, Contracts.secure.customers.create.request, ['name', 'email', 'phone']],
      [searchCustomersBodySchema, Contracts.secure.customers.search.request, ['email']],
      [registerDeviceBodySchema, Contracts.reliable.devices.create.request, ['name', 'model', 'customerId']],
      [listDevicesQuerySchema, Contracts.reliable.devices.list.request, ['status', 'limit', 'cursor']],
      [telemetryQuerySchema, Contracts.edge.telemetry.query.request, ['bucket', 'limit', 'cursor']],
      [usageQuerySchema, Contracts.reliable.usage.query.request, ['deviceId']],
      [auditListQuerySchema, Contracts.secure.audit.list.request, ['afterSeq', 'limit']],
      [auditVerifyQuerySchema, Contracts.secure.audit.verify.request, ['mode']],
    ];
    for (const [http, contract, fields] of pairs) {
      for (const field of fields)
        expect({ field, same: http.shape[field] === contract.shape[field] }).toEqual({ field, same: true });
    }
  });

  it("openapi - a DTO the gateway answers as a store sent it declares the contract's fields, required alike", () => {
    const twins: Array<[string, z.ZodType]> = [
      ['CustomerDto', Contracts.secure.customers.get.response],
      ['AuditPageDto', Contracts.secure.audit.list.response],
      ['AuditEntryDto', Contracts.secure.audit.list.response.shape.items.element],
      ['AuditVerdictDto', Contracts.secure.audit.verify.response],
      ['DeviceDto', Contracts.reliable.devices.get.response],
      ['UsagePageDto', Contracts.reliable.usage.query.response],
    ];
    const fieldsOf = (schema: unknown) => {
      const { properties = {}, required = [] } = schema as { properties?: object; required?: string[] };
      return { fields: Object.keys(properties).sort(), required: [...required].sort() };
    };
    for (const [name, contract] of twins) {
      const contractFields = fieldsOf(z.toJSONSchema(contract, { io: 'output', unrepresentable: 'any' }));
      expect({ name, ...fieldsOf(document.components?.schemas?.[name]) }).toEqual({ name, ...contractFields });
    }
  });

  it("openapi - the device ingest API is in the document, served by the edge store with the device's credential", () => {
    for (const path of ['/ingest', '/credentials/renew']) {
      const item = document.paths[path]!;
      expect(item.servers?.[0]?.description).toMatch(/edge store/);
      expect(item.post?.security).toEqual([{ device: [] }]);
    }
    expect(document.paths['/ingest']!.post!.responses['202']).toMatchObject({
      content: { 'application/json': { schema: { $ref: '#/components/schemas/IngestAccepted' } } },
    });
    expect(Object.keys(document.components?.schemas ?? {})).toEqual(
      expect.arrayContaining(['DeviceReading', 'IngestAccepted', 'DeviceCredentials']),
    );
  });
});
