import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { components } from '#polystore/client';

/** The name of a component schema of docs/openapi.json. */
export type SchemaName = keyof components['schemas'];

type JsonSchema = Record<string, unknown>;

/** The committed OpenAPI document's component schemas, references rewritten for `z.fromJSONSchema`. */
const definitions = (() => {
  const document = JSON.parse(readFileSync(new URL('../../docs/openapi.json', import.meta.url), 'utf8')) as {
    components: { schemas: Record<string, JsonSchema> };
  };
  const text = JSON.stringify(document.components.schemas).replaceAll('#/components/schemas/', '#/definitions/');
  return closed(JSON.parse(text)) as Record<string, JsonSchema>;
})();

/**
 * Every object schema that lists its properties, closed to others: an answer with a field the
 * document does not declare fails, so the document cannot fall behind what the API sends.
 */
function closed(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closed);
  if (typeof schema !== 'object' || schema === null) return schema;
  const copy = Object.fromEntries(Object.entries(schema).map(([key, value]) => [key, closed(value)]));
  if (copy['type'] === 'object' && copy['properties'] && copy['additionalProperties'] === undefined)
    copy['additionalProperties'] = false;
  return copy;
}

/** A zod schema of a component of docs/openapi.json (`schemaOf('CustomerDto')`), strict about extra fields. */
export function schemaOf(name: SchemaName): z.ZodType {
  const schema = definitions[name];
  if (!schema) throw new Error(`docs/openapi.json has no schema ${name}`);
  return z.fromJSONSchema({ ...schema, definitions }, { defaultTarget: 'openapi-3.0' });
}

/**
 * `value` checked against the component schema `name` of docs/openapi.json: returned as the
 * generated client types it, or an error naming every mismatch.
 */
export function matchesSchema<Name extends SchemaName>(name: Name, value: unknown): components['schemas'][Name] {
  const result = schemaOf(name).safeParse(value);
  if (!result.success)
    throw new Error(`${name} does not match: ${z.prettifyError(result.error)}\n${JSON.stringify(value, null, 2)}`);
  return value as components['schemas'][Name];
}
