import type { OpenAPIObject } from '@nestjs/swagger';

/**
 * One OpenAPI document describing two HTTP APIs served by different apps: `base`, plus the
 * paths of `other`, each path given `other`'s servers (OpenAPI lets a path item override the
 * document's servers), and `other`'s tags, schemas and security schemes. A path or a schema
 * name in both with different definitions is an error, not an override.
 */
export function mergeOpenApiDocuments(base: OpenAPIObject, other: OpenAPIObject): OpenAPIObject {
  const clash = (a: Record<string, unknown> | undefined, b: Record<string, unknown> | undefined, what: string) => {
    const both = Object.keys(b ?? {}).filter((key) => a?.[key] !== undefined && !sameJson(a[key], b?.[key]));
    if (both.length > 0) throw new Error(`mergeOpenApiDocuments: ${what} in both documents: ${both.join(', ')}`);
  };
  clash(base.paths, other.paths, 'paths');
  clash(base.components?.schemas, other.components?.schemas, 'schemas');
  clash(base.components?.securitySchemes, other.components?.securitySchemes, 'security schemes');
  const servers = other.servers?.length ? other.servers : undefined;
  return {
    ...base,
    tags: [...(base.tags ?? []), ...(other.tags ?? [])],
    paths: {
      ...base.paths,
      ...Object.fromEntries(Object.entries(other.paths).map(([path, item]) => [path, { ...item, servers }])),
    },
    components: {
      ...base.components,
      schemas: { ...base.components?.schemas, ...other.components?.schemas },
      securitySchemes: { ...base.components?.securitySchemes, ...other.components?.securitySchemes },
    },
  };
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
