import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { StoreManifest } from '#polystore/catalog';
import type { StoreSchema, StoreSchemaByDialect } from '#polystore/data-router';

/**
 * A store app as the composing apps see it (the quickstart runs them, the CLI migrates and moves
 * their tenants): its manifest, its tenant schema (entities and migrations, per dialect), and how
 * to start it. Each store exports one from its public entry, `apps/<store>/src/index.ts`.
 */
export interface StoreApp {
  readonly manifest: StoreManifest;
  readonly schema: StoreSchema | StoreSchemaByDialect;
  start(
    env: Record<string, string | undefined>,
    options?: { handleSignals?: boolean },
  ): Promise<NestFastifyApplication>;
}
