import type { EntityManager } from 'typeorm';
import { DataRouterException } from './data-router.exception.js';

/** The engine families a store's persistence is written for (MariaDB is `mysql`). */
export type DialectFamily = 'postgres' | 'mysql' | 'mongodb';

const FAMILIES: Record<string, DialectFamily> = {
  postgres: 'postgres',
  mysql: 'mysql',
  mariadb: 'mysql',
  mongodb: 'mongodb',
};

/** The engine family of a unit of work's connection. */
export function dialectFamilyOf(db: EntityManager): DialectFamily {
  const family = FAMILIES[db.connection.options.type];
  if (!family) throw DataRouterException.invalidPlacement(`unsupported engine ${db.connection.options.type}`);
  return family;
}

/**
 * One implementation of a piece of a store's persistence per engine family, picked for each unit
 * of work by the engine of the tenant's placement: the one seam where dialects differ, instead of
 * `if (mongo)` / `options.type` branches spread over a store's repositories. The repository
 * stays one class (what the services inject); each method is one line,
 * `router.run((db) => SEAM.of(db).method(db, ...))`, and each dialect's code sits in a file of its
 * own implementing the same interface.
 */
export class DialectSeam<T> {
  constructor(
    /** What the seam is for, in errors (`edge readings`). */
    private readonly name: string,
    private readonly implementations: Partial<Record<DialectFamily, T>>,
  ) {}

  /** The families this seam has an implementation for. */
  get families(): DialectFamily[] {
    return Object.keys(this.implementations) as DialectFamily[];
  }

  /** The implementation for `db`'s engine; `INVALID_PLACEMENT` when there is none. */
  of(db: EntityManager): T {
    const family = dialectFamilyOf(db);
    const implementation = this.implementations[family];
    if (!implementation) throw DataRouterException.invalidPlacement(`${this.name} cannot run on ${family}`);
    return implementation;
  }
}
