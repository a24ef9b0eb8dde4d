import { Inject, Injectable } from '@nestjs/common';
import { defaultPlacementKind, storeManifests, type StoreManifest, type StoreName } from '#polystore/catalog';
import type { Contract } from '#polystore/messaging';
import type { Dialect, PlacementKind } from '#polystore/data-router';
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
  /** The tenant's bytes and row counts in this store (quotas). */
  readonly usage: Contract;
}

/** The stores this deployment runs (`STORES`), in provisioning order, from their manifests. */
@Injectable()
export class StoreDirectory {
  readonly stores: readonly StoreEntry[];

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.stores = storeManifests()
      .filter((manifest) => config.STORES.includes(manifest.name))
      .map((manifest) => entryOf(manifest, config));
  }
}

function entryOf(manifest: StoreManifest, config: GatewayConfig): StoreEntry {
  const serverUrl = config[`${manifest.configPrefix}_SERVER_URL`];
  return {
    store: manifest.name,
    service: manifest.service,
    defaultServerUrl: serverUrl,
    defaultKind: config[`${manifest.configPrefix}_PLACEMENT_KIND`] ?? defaultPlacementKind(serverUrl),
    dialects: manifest.dialects,
    ...manifest.contracts,
  };
}
