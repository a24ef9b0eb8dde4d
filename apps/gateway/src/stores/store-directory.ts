import { Inject, Injectable } from '@nestjs/common';
import { defaultPlacementKind, type StoreName } from '#polystore/catalog';
import type { Dialect, PlacementKind } from '#polystore/data-router';
import { Contracts, type Contract } from '#polystore/messaging';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config.js';

/** What the gateway needs to know about one store to provision tenants and check readiness. */
export interface StoreEntry {
  readonly store: StoreName;
  /** Service (queue group) name, as shown in readiness. */
  readonly service: string;
  /** Server new tenants are placed on. */
  readonly defaultServerUrl: string;
  /** How new tenants are placed there, unless the operator chooses. */
  readonly defaultKind: PlacementKind;
  /** Server engines the store runs on (an operator's server must be one of them). */
  readonly dialects: readonly Dialect[];
  readonly provision: Contract;
  readonly drop: Contract;
  readonly health: Contract;
}

/** The stores this deployment runs, in provisioning order. */
@Injectable()
export class StoreDirectory {
  readonly stores: readonly StoreEntry[];

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    const all: StoreEntry[] = [
      {
        store: 'secure',
        service: 'secure-store',
        defaultServerUrl: config.SECURE_SERVER_URL,
        defaultKind: config.SECURE_PLACEMENT_KIND ?? defaultPlacementKind(config.SECURE_SERVER_URL),
        dialects: ['postgres'],
        provision: Contracts.secure.tenants.provision,
        drop: Contracts.secure.tenants.drop,
        health: Contracts.secure.health,
      },
      {
        store: 'reliable',
        service: 'reliable-store',
        defaultServerUrl: config.RELIABLE_SERVER_URL,
        defaultKind: config.RELIABLE_PLACEMENT_KIND ?? defaultPlacementKind(config.RELIABLE_SERVER_URL),
        dialects: ['mysql', 'mariadb', 'postgres'],
        provision: Contracts.reliable.tenants.provision,
        drop: Contracts.reliable.tenants.drop,
        health: Contracts.reliable.health,
      },
      {
        store: 'edge',
        service: 'edge-store',
        defaultServerUrl: config.EDGE_SERVER_URL,
        defaultKind: config.EDGE_PLACEMENT_KIND ?? defaultPlacementKind(config.EDGE_SERVER_URL),
        dialects: ['postgres', 'mongodb'],
        provision: Contracts.edge.tenants.provision,
        drop: Contracts.edge.tenants.drop,
        health: Contracts.edge.health,
      },
    ];
    this.stores = all.filter((entry) => config.STORES.includes(entry.store));
  }
}
