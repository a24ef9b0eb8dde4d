import { classifySqlError, type DataSourceRouter } from '#polystore/data-router';
import type { EntityManager } from 'typeorm';
import { IdempotencyKeyEntity, type KeyState } from './idempotency-key.entity.js';

/** A key to claim: what it stands for and how long it is kept. */
export interface KeyClaim {
  readonly key: string;
  /** SHA-256 (hex) of what the key was claimed for: the request, or the saga step itself. */
  readonly requestHash: string;
  /** When it may be purged; `NO_EXPIRY` keeps it until its owner goes (a saga step's key: its tenant). */
  readonly expiresAt: Date;
}

/** What `runOnce` found: the work ran and committed, or the key was held already. */
export type OnceOutcome<T> =
  | { readonly ran: true; readonly result: T }
  /** `existing` is the row that held the key, or null when its claim rolled back since. */
  | { readonly ran: false; readonly existing: IdempotencyKeyEntity | null };

/** Raised inside the transaction when the key is already claimed; never leaves the ledger. */
class KeyAlreadyClaimed extends Error {}

/**
 * The one mechanism behind every once-only write of a store, over its `idempotency_keys` table:
 * an HTTP `Idempotency-Key` (`IdempotentExecutor`) and a saga step at its participant
 * (`ParticipantFence` of libs/saga) alike.
 *
 * In one transaction: claim the key (INSERT; a concurrent duplicate waits on the unique index,
 * then fails), run the effect, store its JSON result. So a key is stored if and only if its
 * effect committed. Unique-key races are decided by the database (matched by SQLSTATE / error
 * number, never by message).
 */
export const KeyLedger = {
  /**
   * Claims `claim.key` in state `state` and, in the same transaction, runs `work` and stores its
   * result. `beforeCommit` runs last inside the transaction (tests arm a crash point there).
   */
  async runOnce<T>(
    router: DataSourceRouter,
    claim: KeyClaim,
    state: KeyState,
    work: (manager: EntityManager) => Promise<T>,
    beforeCommit?: () => void,
  ): Promise<OnceOutcome<T>> {
    try {
      return await router.transaction(async (manager) => {
        await insertClaim(manager, claim, state);
        const result = await work(manager);
        await manager.update(IdempotencyKeyEntity, { key: claim.key }, { result: JSON.stringify(result ?? null) });
        beforeCommit?.();
        return { ran: true, result };
      });
    } catch (error) {
      if (!(error instanceof KeyAlreadyClaimed)) throw error;
      const existing = await router.run((ds) => ds.getRepository(IdempotencyKeyEntity).findOneBy({ key: claim.key }));
      return { ran: false, existing };
    }
  },

  /**
   * Claims `claim.key` in state `state` and runs nothing (a compensation's marker): true when this
   * call made it, false when the key was held already. Nothing is read then: a caller that needs
   * the row locks it ({@link lock}).
   */
  async leaveMarker(router: DataSourceRouter, claim: KeyClaim, state: KeyState): Promise<boolean> {
    try {
      await router.transaction((manager) => insertClaim(manager, claim, state));
      return true;
    } catch (error) {
      if (error instanceof KeyAlreadyClaimed) return false;
      throw error;
    }
  },

  /** Reads `key` locked for update inside `manager`'s transaction (null when absent). */
  lock(manager: EntityManager, key: string): Promise<IdempotencyKeyEntity | null> {
    return manager
      .getRepository(IdempotencyKeyEntity)
      .createQueryBuilder('k')
      .setLock('pessimistic_write')
      .where('k.idem_key = :key', { key })
      .getOne();
  },

  /** Sets the state of a held key (a compensation marks its step's key `compensated`). */
  async mark(manager: EntityManager, key: string, state: KeyState): Promise<void> {
    await manager.update(IdempotencyKeyEntity, { key }, { state });
  },

  /** The stored result of a row, parsed (null for a compensation's marker). */
  resultOf<T>(row: IdempotencyKeyEntity): T | null {
    return row.result === null ? null : (JSON.parse(row.result) as T);
  },
};

async function insertClaim(manager: EntityManager, claim: KeyClaim, state: KeyState): Promise<void> {
  try {
    await manager.insert(IdempotencyKeyEntity, {
      key: claim.key,
      requestHash: claim.requestHash,
      state,
      result: null,
      createdAt: new Date(),
      expiresAt: claim.expiresAt,
    });
  } catch (error) {
    if (classifySqlError(error) === 'unique_violation') throw new KeyAlreadyClaimed();
    throw error;
  }
}
