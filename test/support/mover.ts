import { testContextSigner } from './context-keys.js';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  CatalogAdminService,
  CatalogService,
  openSystemDatabase,
  storeKeyOf,
  type CatalogOptions,
} from '#polystore/catalog';
import type { StoreSchema } from '#polystore/data-router';
import { connectNats, MessageClient } from '#polystore/messaging';
import { runtimeLogin } from '#polystore/runtime';
import { TenantMover } from '../../apps/cli/src/move/tenant-mover.js';
import { TestServices } from './services.js';
import { TEST_MASTER_KEY, type TestStack } from './stack.js';

/** A tenant mover on the test catalog, as the CLI builds it. */
export interface TestMover {
  readonly mover: TenantMover;
  readonly catalog: CatalogService;
  readonly catalogAdmin: CatalogAdminService;
  /** Closes what {@link openMover} opened (the NATS connection too, unless the caller gave it). */
  close(): Promise<void>;
}

/**
 * A `TenantMover` on the test system database whose catalog changes are announced on `stack`'s
 * subject prefix, so the placement switch reaches the stack's running stores; with the stores'
 * runtime login (from the test master key) for moves into a schema.
 */
export async function openMover(
  stack: TestStack,
  applicationName: string,
  schema: StoreSchema,
  nc?: NatsConnection,
): Promise<TestMover> {
  const options: CatalogOptions = {
    systemDbUrl: TestServices.systemDbUrl,
    keys: { masterKey: Buffer.from(TEST_MASTER_KEY, 'base64') },
    cacheTtlMs: 60_000,
    negativeCacheTtlMs: 2_000,
    poolSize: 3,
    applicationName,
  };
  const systemDb = await openSystemDatabase({ url: options.systemDbUrl, poolSize: 3, applicationName });
  const connection = nc ?? (await connectNats({ url: TestServices.natsUrl, name: applicationName }));
  const messages = new MessageClient(connection, {
    subjectPrefix: stack.prefix,
    defaultTimeoutMs: 2_000,
    signer: testContextSigner,
  });
  const catalog = new CatalogService(systemDb, options, messages);
  const catalogAdmin = new CatalogAdminService(systemDb, options, catalog);
  const mover = new TenantMover({
    catalogAdmin,
    catalog,
    schemaFor: () => schema,
    runtimeLogin: (store) => runtimeLogin(store, storeKeyOf(Buffer.from(TEST_MASTER_KEY, 'base64'), store)),
  });
  return {
    mover,
    catalog,
    catalogAdmin,
    async close() {
      if (!nc) await connection.drain();
      await systemDb.destroy();
    },
  };
}
