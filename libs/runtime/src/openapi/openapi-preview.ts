import { Module, type INestApplication, type InjectionToken, type Provider, type Type } from '@nestjs/common';
import { GUARDS_METADATA, PARAMTYPES_METADATA, SELF_DECLARED_DEPS_METADATA } from '@nestjs/common/constants.js';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { OpenAPIObject } from '@nestjs/swagger';

/**
 * The OpenAPI document of `controllers` without running anything: Nest's preview mode scans the
 * controllers and their decorators and instantiates nothing (no database, no NATS, no port).
 * `build` makes the document from the app, as the running app makes it (`SwaggerModule`).
 *
 * Preview mode still checks that every dependency has a provider: each constructor dependency
 * of the controllers and of their guards is given a placeholder, never built.
 */
export async function previewOpenApiDocument(
  controllers: readonly Type[],
  build: (app: INestApplication) => OpenAPIObject,
): Promise<OpenAPIObject> {
  @Module({ controllers: [...controllers], providers: placeholdersFor(controllers) })
  class ApiPreviewModule {}
  const app = await NestFactory.create(ApiPreviewModule, new FastifyAdapter(), {
    preview: true,
    logger: false,
    abortOnError: false,
  });
  try {
    return build(app);
  } finally {
    await app.close();
  }
}

/** A placeholder provider for every constructor dependency of `controllers` and of their guards. */
function placeholdersFor(controllers: readonly Type[]): Provider[] {
  const guards = controllers.flatMap((controller) => [
    ...guardsOf(controller),
    ...Object.getOwnPropertyNames(controller.prototype).flatMap((method) =>
      guardsOf((controller.prototype as Record<string, unknown>)[method]),
    ),
  ]);
  const tokens = [...guards, ...[...controllers, ...guards].flatMap(dependenciesOf)];
  return [...new Set(tokens)].map((token) => ({ provide: token as InjectionToken, useValue: null }));
}

function guardsOf(target: unknown): Type[] {
  if (typeof target !== 'function') return [];
  const guards = (Reflect.getMetadata(GUARDS_METADATA, target) ?? []) as unknown[];
  return guards.filter((guard): guard is Type => typeof guard === 'function');
}

/** The injection tokens a class' constructor asks for (`@Inject(token)`, else the parameter's type). */
function dependenciesOf(type: Type): unknown[] {
  const types = (Reflect.getMetadata(PARAMTYPES_METADATA, type) ?? []) as unknown[];
  const injected = (Reflect.getMetadata(SELF_DECLARED_DEPS_METADATA, type) ?? []) as {
    index: number;
    param: unknown;
  }[];
  return types.map((paramType, index) => injected.find((dep) => dep.index === index)?.param ?? paramType);
}
