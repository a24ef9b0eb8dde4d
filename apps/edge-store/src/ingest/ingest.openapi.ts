import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import {
  deviceCredentialsSchema,
  deviceReadingSchema,
  httpErrorBodySchema,
  ingestAcceptedSchema,
  openApiSchemaOf,
} from '#polystore/messaging';
import { ERROR_BODY_SCHEMA, previewOpenApiDocument } from '#polystore/runtime';
import { HttpIngestController } from './http-ingest.controller.js';

/**
 * The OpenAPI document of the edge store's device API (`POST /ingest`, `POST /credentials/renew`
 * on EDGE_HTTP_PORT), made without starting the edge store. The gateway's document includes it
 * (`docs/openapi.json`, scripts/openapi.mjs); its server is the edge store, not the gateway.
 */
export function deviceIngestOpenApiDocument(): Promise<OpenAPIObject> {
  return previewOpenApiDocument([HttpIngestController], createIngestDocument);
}

function createIngestDocument(app: INestApplication): OpenAPIObject {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Polystore edge store device API')
      .setVersion('1')
      .addServer('http://localhost:3100', 'The edge store (EDGE_HTTP_PORT), not the gateway')
      .addBearerAuth(
        { type: 'http', scheme: 'bearer', description: "The device's credential (registration or rotation)" },
        'device',
      )
      .build(),
  );
  document.components = {
    ...document.components,
    schemas: {
      ...document.components?.schemas,
      [ERROR_BODY_SCHEMA]: openApiSchemaOf(httpErrorBodySchema),
      DeviceReading: openApiSchemaOf(deviceReadingSchema),
      IngestAccepted: openApiSchemaOf(ingestAcceptedSchema),
      DeviceCredentials: openApiSchemaOf(deviceCredentialsSchema),
    },
  };
  return document;
}
