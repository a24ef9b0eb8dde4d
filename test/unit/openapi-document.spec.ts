import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { OpenAPIObject } from '@nestjs/swagger';
import openapiTS, { astToString } from 'openapi-typescript';
import { z } from 'zod';
import { Contracts } from '#polystore/messaging';
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
