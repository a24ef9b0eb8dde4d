import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { ApiBody, ApiQuery } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { GatewayRequestBodies, openApiSchemaOf, type GatewayRequestBodyName } from '#polystore/messaging';
import type { z } from 'zod';
import { GatewayException } from './gateway.exception.js';

/**
 * Request validation of the gateway with the contract lib's zod schemas (`libs/messaging`,
 * `contracts/gateway.schema.ts`): `@BodyOf(name)` and `@QueryOf(schema)` parse the body or the
 * query string (a 400 `VALIDATION_FAILED` naming every field that is wrong, unknown fields
 * included) and put the same schema in the OpenAPI document, so what is checked and what is
 * documented cannot drift apart.
 */

const article = (word: string) => (/^[aeiou]/.test(word) ? `an ${word}` : `a ${word}`);
const TYPE_NAMES: Record<string, string> = { int: 'integer' };
const FORMAT_RULES: Record<string, string> = {
  email: 'must be an email address',
  uuid: 'must be a UUID',
  guid: 'must be a UUID',
  datetime: 'must be an ISO 8601 date-time',
};

/**
 * The gateway's wording of a zod issue, `must be ...` after the field's name (what the 400s said
 * before the schemas replaced class-validator). A message the schema sets itself wins over it.
 */
function phrase(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined
        ? 'is required'
        : `must be ${article(TYPE_NAMES[issue.expected] ?? issue.expected)}`;
    case 'too_small': {
      const min = String(issue.minimum);
      if (issue.origin === 'string') return `must be at least ${min} character${min === '1' ? '' : 's'} long`;
      if (issue.origin === 'array') return `must have at least ${min} item${min === '1' ? '' : 's'}`;
      return issue.inclusive === false ? `must be greater than ${min}` : `must be at least ${min}`;
    }
    case 'too_big': {
      const max = String(issue.maximum);
      if (issue.origin === 'string') return `must be at most ${max} characters long`;
      if (issue.origin === 'array') return `must have at most ${max} items`;
      return issue.inclusive === false ? `must be less than ${max}` : `must be at most ${max}`;
    }
    case 'invalid_format':
      return (
        FORMAT_RULES[issue.format] ?? (issue.format === 'regex' ? `must match ${String(issue.pattern)}` : undefined)
      );
    case 'invalid_value':
      return `must be one of ${issue.values.map(String).join(', ')}`;
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}`;
    case 'invalid_union':
    case 'invalid_key':
    case 'invalid_element':
    case 'unrecognized_keys':
    case 'custom':
      return undefined;
  }
}

/** Every problem of `error`, each naming its field (`placements.0.kind must be one of ...`). */
export function problemsOf(error: z.ZodError, root: string): string[] {
  return error.issues.flatMap((issue) => {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => `property ${path ? `${path}.` : ''}${key} should not exist`);
    }
    return [`${path || root} ${issue.message}`];
  });
}

/** `value` parsed by `schema`, or a 400 naming every problem. */
export function parseRequest<S extends z.ZodType>(schema: S, value: unknown, root: string): z.output<S> {
  const parsed = schema.safeParse(value, { error: phrase });
  if (!parsed.success) throw GatewayException.validation(problemsOf(parsed.error, root));
  return parsed.data;
}

/** The schema under optional, default, nullable and pipe wrappers: what a query value is meant to be. */
function innerOf(schema: z.core.$ZodType): z.core.$ZodType {
  const def = schema._zod.def as { type: string; innerType?: z.core.$ZodType; in?: z.core.$ZodType };
  if (def.innerType) return innerOf(def.innerType);
  if (def.type === 'pipe' && def.in) return innerOf(def.in);
  return schema;
}

/**
 * A query string as `schema` expects it: each value of a number field as `Number(value)` (so
 * `limit=abc` fails as not a number, and `limit=` as 0), everything else as sent.
 */
function coerceQuery(schema: z.ZodObject, query: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(query).map(([name, value]) => {
      const field = schema.shape[name] as z.ZodType | undefined;
      const numeric = field !== undefined && innerOf(field)._zod.def.type === 'number';
      return [name, numeric && typeof value === 'string' ? Number(value) : value];
    }),
  );
}

/**
 * The schema travels wrapped, under a key of its own: Nest takes a decorator argument with a
 * `transform` method (which every zod schema has) for a pipe, and `{ schema }` for its own
 * Standard Schema options, neither for the decorator's data.
 */
interface SchemaOf<S> {
  readonly requestSchema: S;
}

const ValidBody = createParamDecorator(
  ({ requestSchema: schema }: SchemaOf<z.ZodType>, context: ExecutionContext): unknown => {
    // No body, or JSON null, is an empty object: its required fields are then named missing.
    const body = context.switchToHttp().getRequest<FastifyRequest>().body ?? {};
    return parseRequest(schema, body, 'body');
  },
);

/** A query string parsed by `schema` (numbers coerced first), or a 400 naming every problem. */
export function parseQuery<S extends z.ZodObject>(schema: S, query: Record<string, unknown>): z.output<S> {
  return parseRequest(schema, coerceQuery(schema, query), 'query');
}

const ValidQuery = createParamDecorator(
  ({ requestSchema: schema }: SchemaOf<z.ZodObject>, context: ExecutionContext): unknown =>
    parseQuery(schema, (context.switchToHttp().getRequest<FastifyRequest>().query ?? {}) as Record<string, unknown>),
);

function descriptorOf(target: object, key: string | symbol | undefined): [string | symbol, PropertyDescriptor] {
  if (key === undefined) throw new Error('@BodyOf and @QueryOf decorate a route handler parameter');
  return [key, Object.getOwnPropertyDescriptor(target, key)!];
}

/**
 * The request body, validated by the contract lib's schema `name` (`GatewayRequestBodies`), and
 * documented as `#/components/schemas/<name>`.
 */
export function BodyOf(name: GatewayRequestBodyName): ParameterDecorator {
  return (target, key, index) => {
    ValidBody({ requestSchema: GatewayRequestBodies[name] })(target, key, index);
    ApiBody({ schema: { $ref: `#/components/schemas/${name}` } })(target, ...descriptorOf(target, key));
  };
}

/** The query string, validated by `schema` (a strict object), each of its fields documented as a query parameter. */
export function QueryOf(schema: z.ZodObject): ParameterDecorator {
  return (target, key, index) => {
    ValidQuery({ requestSchema: schema })(target, key, index);
    const [method, descriptor] = descriptorOf(target, key);
    for (const [name, field] of Object.entries(schema.shape)) {
      const { description, ...fieldSchema } = openApiSchemaOf(field as z.ZodType);
      ApiQuery({
        name,
        required: !(field as z.ZodType).safeParse(undefined).success,
        ...(typeof description === 'string' ? { description } : {}),
        schema: fieldSchema,
      })(target, method, descriptor);
    }
  };
}

/** The OpenAPI schema of every named request body, for the document's components. */
export function requestBodyComponents(): Record<string, Record<string, unknown>> {
  return Object.fromEntries(
    Object.entries(GatewayRequestBodies).map(([name, schema]) => [name, openApiSchemaOf(schema)]),
  );
}
