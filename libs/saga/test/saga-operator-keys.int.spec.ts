import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openSystemDatabase } from '#polystore/catalog';
import { IdempotencyErrorCode } from '#polystore/idempotency';
import { CodedError, ErrorKind } from '#polystore/platform';
import {
  SAGA_MIGRATIONS,
  SagaErrorCode,
  SagaOrchestrator,
  SagaState,
  StepState,
  defineSaga,
  type SagaOrchestratorOptions,
  type SagaRecord,
} from '#polystore/saga';
import { parseTenantSlug } from '#polystore/tenancy';
import type { DataSource } from 'typeorm';
import { eventually } from '../../../test/support/eventually.js';
import { uniqueToken } from '../../../test/support/ids.js';
import { TestServices } from '../../../test/support/services.js';

const TENANT = parseTenantSlug('saga-keys-test');

/**
 * The operators' `Idempotency-Key` on retry and skip, on the real system database: the key
 * commits with the state change, a repeat (sequential, concurrent, or in another process)
 * changes nothing and gets the saga, another saga or action is a mismatch, and old keys are
 * purged by the sweeper. The sagas here need no store: their steps are in-memory functions.
 */
describe('saga operator keys - Idempotency-Key on retry and skip, on real PostgreSQL', () => {
  let db: DataSource;
  const orchestrators: SagaOrchestrator[] = [];
  /** Names of the sagas this suite defined: removed from the shared catalog (with their keys) at the end. */
  const defined: string[] = [];
  /** How often the compensation of step `a` ran, by saga id. */
  const compensations = new Map<string, number>();
  /** While true, the compensation of `a` answers with an internal error (the saga parks). */
  const broken = new Set<string>();

  const orchestrator = (extra: Partial<SagaOrchestratorOptions> = {}) => {
    const o = new SagaOrchestrator(db, {
      owner: `keys-${uniqueToken(4)}`,
      leaseMs: 2_000,
      sweepIntervalMs: 0,
      maxConcurrentRecoveries: 20,
      ...extra,
    });
    o.register(definition);
    orchestrators.push(o);
    return o;
  };

  // Step a acts, step b is refused by its "store": a compensates, and fails while broken.
  const definition = defineSaga<{ n: number }>({
    name: (defined[0] = `operator-keys-${uniqueToken(4)}`),
    version: 1,
    deadlineMs: 30_000,
    steps: [
      {
        name: 'a',
        action: () => Promise.resolve({ done: true }),
        compensationRetry: { initialIntervalMs: 5, maxIntervalMs: 10, maxAttempts: 2 },
        compensation: (ctx) => {
          compensations.set(ctx.sagaId, (compensations.get(ctx.sagaId) ?? 0) + 1);
          if (broken.has(ctx.sagaId))
            return Promise.reject(new CodedError('STORE_BROKEN', ErrorKind.INTERNAL, 'store answered with an error'));
          return Promise.resolve();
        },
      },
      {
        name: 'b',
        action: () => Promise.reject(new CodedError('RULE_BROKEN', ErrorKind.CONFLICT, 'business says no')),
      },
    ],
  });

  /** A saga parked COMPENSATION_FAILED (its compensation stays broken until `broken` says otherwise). */
  async function parked(o: SagaOrchestrator): Promise<SagaRecord> {
    const id = await o.start(definition, { n: 1 }, { tenant: TENANT });
    broken.add(id);
    const saga = await o.waitFor(id, 20_000);
    expect(saga.state).toBe(SagaState.COMPENSATION_FAILED);
    return saga;
  }

  const key = () => `op-${uniqueToken(10)}`;
  const stepA = (saga: SagaRecord) => saga.steps.find((s) => s.step === 'a')!;
  const storedKey = async (k: string) =>
    (
      await db.query<Array<{ saga_id: string; action: string }>>(
        'SELECT saga_id, action FROM saga_actions WHERE key = $1',
        [k],
      )
    )[0] ?? null;

  beforeAll(async () => {
    db = await openSystemDatabase({
      url: TestServices.systemDbUrl,
      poolSize: 8,
      applicationName: 'saga-keys-test',
      extraMigrations: [...SAGA_MIGRATIONS],
    });
  });

  afterAll(async () => {
    await Promise.all(orchestrators.map((o) => o.stop()));
    await db.query('DELETE FROM sagas WHERE name = ANY($1)', [defined]);
    await db.destroy();
  });

  it('saga operator keys - the same key twice retries once: the repeat gets the same saga, no second claim or compensation round', async () => {
    const o = orchestrator();
    const saga = await parked(o);
    const k = key();
    const first = await o.retry(saga.id, { idempotencyKey: k });
    expect(first.state).toBe(SagaState.COMPENSATION_FAILED); // still broken: parked again after one round
    expect(first.fence).toBe(saga.fence + 1);
    const round = compensations.get(saga.id)!;
    expect(stepA(first).compensationAttempts).toBe(stepA(saga).compensationAttempts + 2);
    expect(await storedKey(k)).toEqual({ saga_id: saga.id, action: 'retry' });

    const repeat = await o.retry(saga.id, { idempotencyKey: k });
    expect([repeat.state, repeat.fence, stepA(repeat).compensationAttempts]).toEqual([
      first.state,
      first.fence,
      stepA(first).compensationAttempts,
    ]);
    expect(repeat.updatedAt).toEqual(first.updatedAt);
    expect(compensations.get(saga.id)).toBe(round);

    // The same measure sees a second retry when there is one (a new key acts again).
    const another = await o.retry(saga.id, { idempotencyKey: key() });
    expect(another.fence).toBe(first.fence + 1);
    expect(compensations.get(saga.id)).toBe(round + 2);
  });

  it('saga operator keys - 5 concurrent retries with one key, from 5 orchestrators: one claim, one compensation round, the same answer for all', async () => {
    const saga = await parked(orchestrator());
    const before = compensations.get(saga.id)!;
    broken.delete(saga.id); // fixed: the retry completes the saga
    const k = key();
    const replicas = Array.from({ length: 5 }, () => orchestrator());
    const answers = await Promise.all(replicas.map((o) => o.retry(saga.id, { idempotencyKey: k })));
    expect(answers.map((a) => [a.state, a.fence])).toEqual(
      Array.from({ length: 5 }, () => [SagaState.COMPENSATED, saga.fence + 1]),
    );
    expect(compensations.get(saga.id)).toBe(before + 1);
    const keys = await db.query<unknown[]>('SELECT key FROM saga_actions WHERE saga_id = $1', [saga.id]);
    expect(keys).toEqual([{ key: k }]);
  });

  it('saga operator keys - a retry key used for another saga, or for a skip, is IDEMPOTENCY_MISMATCH and changes nothing', async () => {
    const o = orchestrator();
    const [one, two] = [await parked(o), await parked(o)];
    const k = key();
    await o.retry(one.id, { idempotencyKey: k });
    const oneAfterRetry = await o.get(one.id);

    await expect(o.retry(two.id, { idempotencyKey: k })).rejects.toMatchObject({
      code: IdempotencyErrorCode.IDEMPOTENCY_MISMATCH,
      kind: ErrorKind.CONFLICT,
    });
    await expect(o.skip(one.id, { idempotencyKey: k })).rejects.toMatchObject({
      code: IdempotencyErrorCode.IDEMPOTENCY_MISMATCH,
    });
    const [oneNow, twoNow] = [await o.get(one.id), await o.get(two.id)];
    expect([twoNow.state, twoNow.fence]).toEqual([SagaState.COMPENSATION_FAILED, two.fence]);
    expect([oneNow.state, oneNow.fence]).toEqual([SagaState.COMPENSATION_FAILED, oneAfterRetry.fence]);
    expect(await storedKey(k)).toEqual({ saga_id: one.id, action: 'retry' });
  });

  it('saga operator keys - a skip with a key closes once; its repeat answers the closed saga, not SAGA_NOT_PARKED; a failed action stores no key', async () => {
    const o = orchestrator();
    const saga = await parked(o);
    const k = key();
    const skipped = await o.skip(saga.id, { idempotencyKey: k });
    expect(skipped.state).toBe(SagaState.COMPENSATED);
    expect(stepA(skipped).state).toBe(StepState.SKIPPED);
    const repeat = await o.skip(saga.id, { idempotencyKey: k });
    expect([repeat.state, repeat.fence, repeat.updatedAt]).toEqual([skipped.state, skipped.fence, skipped.updatedAt]);
    // Without a key, nothing changed: a closed saga is not parked.
    await expect(o.skip(saga.id)).rejects.toMatchObject({ code: SagaErrorCode.SAGA_NOT_PARKED });
    // A key whose action failed (not parked) is not kept: it is free for another action.
    const unused = key();
    await expect(o.retry(saga.id, { idempotencyKey: unused })).rejects.toMatchObject({
      code: SagaErrorCode.SAGA_NOT_PARKED,
    });
    expect(await storedKey(unused)).toBeNull();
    const other = await parked(o);
    expect((await o.skip(other.id, { idempotencyKey: unused })).state).toBe(SagaState.COMPENSATED);
  });

  it('saga operator keys - a key survives its orchestrator: a new instance on the same database replays it', async () => {
    const first = orchestrator();
    const saga = await parked(first);
    const k = key();
    const retried = await first.retry(saga.id, { idempotencyKey: k });
    await first.stop(); // the process that acted is gone
    const rounds = compensations.get(saga.id);
    const next = orchestrator();
    const repeat = await next.retry(saga.id, { idempotencyKey: k });
    expect([repeat.state, repeat.fence]).toEqual([SagaState.COMPENSATION_FAILED, retried.fence]);
    expect(compensations.get(saga.id)).toBe(rounds);
  });

  it('saga operator keys - the sweeper purges keys past their retention and keeps younger ones; a purged key acts again', async () => {
    const o = orchestrator();
    const [one, two] = [await parked(o), await parked(o)];
    const [old, young] = [key(), key()];
    await o.retry(one.id, { idempotencyKey: old });
    await o.retry(two.id, { idempotencyKey: young });
    await db.query(`UPDATE saga_actions SET created_at = now() - interval '25 hours' WHERE key = $1`, [old]);
    await db.query(`UPDATE saga_actions SET created_at = now() - interval '23 hours' WHERE key = $1`, [young]);
    // Its sweeper's first pass purges (and, with no room for recoveries, claims nobody's sagas).
    const sweeper = orchestrator({ sweepIntervalMs: 60_000, maxConcurrentRecoveries: 0 });
    sweeper.startRecovery();
    await eventually(async () => (await storedKey(old)) === null, { what: 'the old key purged' });
    expect(await storedKey(young)).toEqual({ saga_id: two.id, action: 'retry' });
    // The purged key is free again; the young one still refuses another saga.
    expect((await o.skip(two.id, { idempotencyKey: old })).state).toBe(SagaState.COMPENSATED);
    await expect(o.skip(one.id, { idempotencyKey: young })).rejects.toMatchObject({
      code: IdempotencyErrorCode.IDEMPOTENCY_MISMATCH,
    });
  });
});
