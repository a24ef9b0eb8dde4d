import { z } from 'zod';
import { defineEvent } from '../contract.js';
import { tenantSlugSchema } from './common.schema.js';

/** Broadcasts of the catalog: every process drops what it cached about the tenant. */
export const CatalogEvents = {
  tenantChanged: defineEvent({
    subject: 'catalog.tenant.changed',
    payload: z.object({ tenant: tenantSlugSchema }),
  }),
} as const;
