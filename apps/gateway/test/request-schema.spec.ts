import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import {
  auditListQuerySchema,
  createApiKeyBodySchema,
  createCustomerBodySchema,
  createTenantBodySchema,
  putQuotasBodySchema,
  registerDeviceBodySchema,
} from '#polystore/messaging';
import { GatewayException } from '../src/gateway.exception.js';
import { parseRequest, parseQuery } from '../src/request-schema.decorator.js';

/** The problems of the 400 that parsing `value` with `schema` throws. */
function problems(parse: () => unknown): string[] {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayException);
    expect((error as GatewayException).code).toBe('VALIDATION_FAILED');
    return (error as GatewayException).details!['errors'] as string[];
  }
  throw new Error('parsed without a problem');
}

describe('request schemas - the gateway validates with the contract lib and names each field', () => {
  it('request schemas - each problem of a body names its field: missing, wrong type, format, length, unknown', () => {
    expect(problems(() => parseRequest(createCustomerBodySchema, { email: 42, admin: true }, 'body'))).toEqual([
      'name is required',
      'email must be a string',
      'property admin should not exist',
    ]);
    expect(problems(() => parseRequest(createCustomerBodySchema, { name: '', email: 'not-an-email' }, 'body'))).toEqual(
      ['name must be at least 1 character long', 'email must be an email address'],
    );
    expect(
      problems(() => parseRequest(registerDeviceBodySchema, { name: 'n', model: 'm', customerId: 'nope' }, 'body')),
    ).toEqual(['customerId must be a UUID']);
    expect(problems(() => parseRequest(createCustomerBodySchema, [1, 2], 'body'))).toEqual(['body must be an object']);
  });

  it('request schemas - nested fields are named by their path; rules the schema words itself keep their words', () => {
    const tenant = { slug: 'acme', name: 'Acme', placements: [{ store: 'secure', kind: 'bogus', extra: 1 }] };
    expect(problems(() => parseRequest(createTenantBodySchema, tenant, 'body'))).toEqual([
      'placements.0.kind must be one of schema, database, dedicated',
      'property placements.0.extra should not exist',
    ]);
    expect(problems(() => parseRequest(createApiKeyBodySchema, { scopes: ['full', 'full'] }, 'body'))).toEqual([
      'scopes must name each scope at most once',
    ]);
    expect(problems(() => parseRequest(putQuotasBodySchema, { devices: '5', customers: 1.5 }, 'body'))).toEqual([
      'devices must be a number',
      'customers must be an integer',
    ]);
  });

  it('request schemas - null for an optional field is "not given", as before; a null quota is kept (back to the default)', () => {
    expect(parseRequest(createApiKeyBodySchema, { name: null, scopes: null }, 'body')).toEqual({
      name: undefined,
      scopes: undefined,
    });
    expect(parseRequest(putQuotasBodySchema, { devices: null }, 'body')).toEqual({ devices: null });
  });

  it('request schemas - a query string number is Number(value): defaults apply, abc and 1.5 are refused naming the field', () => {
    expect(parseQuery(auditListQuerySchema, {})).toEqual({ afterSeq: 0, limit: 100 });
    expect(parseQuery(auditListQuerySchema, { afterSeq: '7', limit: '20' })).toEqual({ afterSeq: 7, limit: 20 });
    expect(problems(() => parseQuery(auditListQuerySchema, { limit: 'abc' }))).toEqual(['limit must be a number']);
    expect(problems(() => parseQuery(auditListQuerySchema, { limit: '1.5', other: 'x' }))).toEqual([
      'limit must be an integer',
      'property other should not exist',
    ]);
  });
});
