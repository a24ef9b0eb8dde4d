import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { httpErrorBodySchema, openApiSchemaOf } from '#polystore/messaging';
import { ERROR_BODY_SCHEMA, previewOpenApiDocument } from '#polystore/runtime';
import { GATEWAY_CONTROLLERS } from '../gateway.controllers.js';
import { requestBodyComponents } from '../request-schema.decorator.js';

const DESCRIPTION = [
  'Tenant routes (`/v1/...`) on `<tenant>.<BASE_DOMAIN>` with an API key (`Authorization: Bearer psk_...`), on the public port (GATEWAY_PORT).',
  'Admin routes (`/admin/...`), metrics, this document and readiness on `BASE_DOMAIN` with the admin token, on the admin port (ADMIN_PORT).',
  'Every error answer has the one body `ErrorBody`; its `code` says what happened.',
].join('\n\n');

/**
 * The gateway's OpenAPI document for `app` (the running gateway, or the preview of
 * {@link gatewayOpenApiDocument}): the same text whatever the configuration, so the committed
 * `docs/openapi.json` is what every gateway serves on `/docs-json`.
 */
export function createGatewayDocument(app: INestApplication): OpenAPIObject {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Polystore gateway')
      .setDescription(DESCRIPTION)
      .setVersion('1')
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'An API key (tenant routes) or the admin token' })
      .build(),
  );
  document.components = {
    ...document.components,
    schemas: {
      ...document.components?.schemas,
      ...requestBodyComponents(),
      [ERROR_BODY_SCHEMA]: openApiSchemaOf(httpErrorBodySchema),
    },
  };
  return document;
}

/** The gateway's OpenAPI document without a running gateway (no database, NATS or port). */
export function gatewayOpenApiDocument(): Promise<OpenAPIObject> {
  return previewOpenApiDocument(GATEWAY_CONTROLLERS, createGatewayDocument);
}
