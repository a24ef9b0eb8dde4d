import { Inject, Injectable } from '@nestjs/common';
import { parseServerUrl, type PlacementKind } from '#polystore/data-router';
import type { TenantSlug } from '#polystore/tenancy';
import { DataSource } from 'typeorm';
import type { PlacementView, TenantView } from './catalog-admin.service.js';
import { SYSTEM_DATA_SOURCE } from './catalog.tokens.js';
import type { TenantStatus } from './entities/tenant.entity.js';

/** One page of tenants in slug order, and the slug to continue after (null on the last page). */
export interface TenantPage {
  readonly tenants: readonly TenantView[];
  readonly next: string | null;
}

/** Which page: tenants whose slug or name contains `q` (any case, literally), after the slug `after`. */
export interface TenantPageQuery {
  readonly q?: string;
  readonly after?: string;
  readonly limit: number;
}

interface Row {
  id: string;
  slug: string;
  name: string;
  status: TenantStatus;
  version: number;
  created_at: Date;
  key_label: string;
  former_slug: string | null;
  purge_after: Date | null;
  store: string | null;
  kind: PlacementKind | null;
  server_url: string | null;
  database_name: string | null;
  schema_name: string | null;
  placement_version: number | null;
}

/**
 * The tenants of the whole catalog, a page at a time (the console): one statement per page, the
 * page's tenants and their placements together, keyset on the slug (its unique index), so a page
 * costs the same at 10 or 10,000 tenants. Placements are shown without credentials.
 */
@Injectable()
export class TenantBrowser {
  constructor(@Inject(SYSTEM_DATA_SOURCE) private readonly db: DataSource) {}

  /** Tenants in slug order after `after`, `limit` at most, filtered by `q` (see {@link TenantPageQuery}). */
  async page(query: TenantPageQuery): Promise<TenantPage> {
    const pattern = query.q ? `%${escapeLike(query.q)}%` : null;
    const rows = await this.select(
      `WHERE ($1::text IS NULL OR t.slug > $1)
         AND ($2::text IS NULL OR t.slug ILIKE $2 ESCAPE '\\' OR t.name ILIKE $2 ESCAPE '\\')
       ORDER BY t.slug LIMIT $3`,
      [query.after ?? null, pattern, query.limit + 1],
    );
    const tenants = tenantsOf(rows);
    const more = tenants.length > query.limit;
    const shown = more ? tenants.slice(0, query.limit) : tenants;
    return { tenants: shown, next: more ? shown[shown.length - 1]!.slug : null };
  }

  /** One tenant with its placements, by slug; null when there is none. */
  async find(slug: TenantSlug): Promise<TenantView | null> {
    return tenantsOf(await this.select('WHERE t.slug = $1', [slug]))[0] ?? null;
  }

  /** The selected tenants (`where` over `tenants t`, with its order and limit) joined with their placements. */
  private select(where: string, params: unknown[]): Promise<Row[]> {
    return this.db.query(
      `WITH page AS (
         SELECT t.id, t.slug, t.name, t.status, t.version, t.created_at, t.key_label, t.former_slug, t.purge_after
           FROM tenants t ${where}
       )
       SELECT page.*, p.store, p.kind, p.server_url, p.database_name, p.schema_name, p.version AS placement_version
         FROM page LEFT JOIN placements p ON p.tenant_id = page.id
        ORDER BY page.slug, p.store`,
      params,
    );
  }
}

/** `text` for LIKE, matched literally: `\`, `%` and `_` escaped with `\` (the `ESCAPE` of the query). */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Rows (one per placement, in slug order) grouped into tenants. */
function tenantsOf(rows: readonly Row[]): TenantView[] {
  const tenants: Array<TenantView & { placements: PlacementView[] }> = [];
  for (const row of rows) {
    let tenant = tenants[tenants.length - 1];
    if (tenant?.id !== row.id) {
      tenant = {
        id: row.id,
        slug: row.slug as TenantSlug,
        name: row.name,
        status: row.status,
        version: row.version,
        createdAt: row.created_at,
        keyLabel: row.key_label,
        formerSlug: row.former_slug,
        purgeAfter: row.purge_after,
        placements: [],
      };
      tenants.push(tenant);
    }
    if (row.store !== null) tenant.placements.push(placementOf(row));
  }
  return tenants;
}

function placementOf(row: Row): PlacementView {
  return {
    store: row.store!,
    kind: row.kind!,
    server: parseServerUrl(row.server_url!).id,
    database: row.database_name!,
    ...(row.schema_name ? { schema: row.schema_name } : {}),
    version: row.placement_version!,
  };
}
