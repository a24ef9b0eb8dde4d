import { boolVar, logLevelVar, portVar } from '#polystore/platform';
import { z } from 'zod';
import { gatewayConfigSchema } from '../../gateway/src/index.js';

/** Environment of `npm start` (the zero-server quickstart), validated once at start. */
export const quickstartConfigSchema = z.object({
  NODE_ENV: z
    .enum(['development', 'test'], { message: 'the quickstart is for development (not production)' })
    .default('development'),
  /** Everything the quickstart keeps: the embedded PostgreSQL's clusters, development secrets, the demo's keys. */
  QUICKSTART_DIR: z.string().min(1).default('.polystore/quickstart'),
  GATEWAY_PORT: portVar(3000),
  /** The gateway's admin port (admin API, OpenAPI, metrics, readiness), on loopback unless ADMIN_HOST says otherwise. */
  ADMIN_PORT: portVar(3001),
  /** Devices' HTTP ingest (`POST /ingest`). */
  EDGE_HTTP_PORT: portVar(3100),
  /**
   * Port of the embedded PostgreSQL (psql connects as to any PostgreSQL). 0: the port it had last
   * time, any free port the first time (tenants' placements keep the server's URL, port included).
   */
  EMBEDDED_PG_PORT: portVar(0),
  BASE_DOMAIN: gatewayConfigSchema.shape.BASE_DOMAIN,
  /** The apps' log level (the quickstart keeps the console for its banner; `info` shows every request). */
  LOG_LEVEL: logLevelVar.default('warn'),
  /** Create the `demo` tenant and a demo device on first start. */
  QUICKSTART_DEMO: boolVar(true),
});

export type QuickstartConfig = z.output<typeof quickstartConfigSchema>;
