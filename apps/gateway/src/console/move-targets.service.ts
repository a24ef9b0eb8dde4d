import { Injectable } from '@nestjs/common';
import { OperationRequests } from '#polystore/catalog';
import { parseServerUrl, PLACEMENT_KINDS, type Dialect, type PlacementKind } from '#polystore/data-router';
import { StoreDirectory } from '../stores/store-directory.js';

/** A server a placement can be moved to: its id (`dialect://host:port`, no credentials). */
export interface MoveTarget {
  readonly server: string;
  /** The store's default server here (where new tenants go). */
  readonly isDefault: boolean;
}

/** Each store's move targets, and the kinds a placement can take on its engine. */
export interface StoreMoveTargets {
  readonly servers: readonly MoveTarget[];
  readonly kinds: readonly PlacementKind[];
}

/**
 * Where the console lets an operator move a placement: a server the catalog already knows for
 * the store (one its placements use) or the store's default server, never a URL typed in a form:
 * the worker holds the credentials, no password travels through the console. One catalog query.
 */
@Injectable()
export class MoveTargets {
  constructor(
    private readonly operations: OperationRequests,
    private readonly directory: StoreDirectory,
  ) {}

  async byStore(): Promise<Record<string, StoreMoveTargets>> {
    const known = await this.operations.knownServers();
    const out: Record<string, StoreMoveTargets> = {};
    for (const entry of this.directory.stores) {
      const defaultServer = idOf(entry.defaultServerUrl);
      const ids = new Set(known.filter((k) => k.store === entry.store).map((k) => k.server));
      if (defaultServer) ids.add(defaultServer);
      out[entry.store] = {
        servers: [...ids].sort().map((server) => ({ server, isDefault: server === defaultServer })),
        kinds: kindsOn(entry.dialects),
      };
    }
    return out;
  }
}

/** The kinds a store's placements can take: a schema only on PostgreSQL. */
function kindsOn(dialects: readonly Dialect[]): PlacementKind[] {
  return PLACEMENT_KINDS.filter((kind) => kind !== 'schema' || dialects.includes('postgres'));
}

function idOf(serverUrl: string): string | undefined {
  try {
    return parseServerUrl(serverUrl).id;
  } catch {
    return undefined;
  }
}
