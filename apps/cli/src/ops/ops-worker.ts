import { setTimeout as delay } from 'node:timers/promises';
import {
  isStoreName,
  type ClaimedOperation,
  type OperationOutcome,
  type OperationRequests,
  storeManifests,
  type StoreManifest,
  type StoreName,
} from '#polystore/catalog';
import { isTenantLogin, parseServerUrl } from '#polystore/data-router';
import { isCodedError } from '#polystore/platform';
import { parseTenantSlug } from '#polystore/tenancy';
import type { CliContext } from '../cli-context.js';
import { migrateJob, type StoreMigration } from '../migrate/migrate.job.js';
import { cliTenantMover } from '../move/cli-mover.js';
import type { MoveReport } from '../move/move-report.js';
import type { TenantMover } from '../move/tenant-mover.js';

/**
 * The phases a move is recorded in before its mover starts (each written before the next step):
 * a move lost there changed nothing and is simply run again. The mover's own phases are written
 * as it reports them, a moment late, so a move lost in any of them is treated as started.
 */
const UNTOUCHED_PHASES: ReadonlySet<string | null> = new Set([null, 'queued', 'claimed', 'resolve target server']);
/** The phase written, and waited for, just before the mover starts. */
const START_MOVE = 'start move';
/** One tenant's migrations may take this long. */
const MIGRATE_TIMEOUT_MS = 300_000;

/** Error codes of the worker itself. */
export const OpsWorkerErrorCode = {
  /** The worker that ran the operation stopped midway (its lease expired) after the move had started changing things. */
  OPERATION_INTERRUPTED: 'OPERATION_INTERRUPTED',
  /** The move's target server is neither this worker's default for the store nor a server the store's placements use. */
  OPERATION_TARGET_UNKNOWN: 'OPERATION_TARGET_UNKNOWN',
  /** The request is malformed (a store or parameter this worker does not know). */
  OPERATION_INVALID: 'OPERATION_INVALID',
} as const;

class OpsFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Settings of an {@link OpsWorker}. */
export interface OpsWorkerOptions {
  /** Names this worker in the catalog (`cli:<INSTANCE_ID>`). */
  readonly worker: string;
  readonly leaseMs: number;
  readonly pollMs: number;
  /** Where progress lines go (stderr). */
  readonly log: (line: string) => void;
}

/**
 * `polystore ops worker`: runs the operations the console asked for (moves of a placement,
 * migrations of one tenant's store), one at a time, with the CLI's administrative access. Claims
 * with `FOR UPDATE SKIP LOCKED` and a lease renewed every third of `leaseMs`, so two workers never
 * run one operation, and the operation of a killed worker is taken over once its lease expires:
 * run again when nothing had changed yet (a migration is always safe to run again), reported
 * `succeeded` when the lost worker had already switched the placement, else `failed`
 * (`OPERATION_INTERRUPTED`, naming the phase). `signal` stops claiming; the operation under way
 * finishes first (a move cannot stop halfway safely; a migration stopped by it goes back to the queue).
 */
export class OpsWorker {
  private readonly requests: OperationRequests;
  private readonly mover: TenantMover;

  constructor(
    private readonly cli: CliContext,
    private readonly options: OpsWorkerOptions,
  ) {
    this.requests = cli.operations;
    this.mover = cliTenantMover(cli);
  }

  async run(signal: AbortSignal): Promise<void> {
    this.options.log(`ops worker ${this.options.worker}: waiting for operations`);
    while (!signal.aborted) {
      const operation = await this.requests.claim(this.options.worker, this.options.leaseMs);
      if (!operation) {
        await delay(this.options.pollMs, undefined, { signal }).catch(() => undefined);
        continue;
      }
      await this.execute(operation, signal);
    }
    this.options.log(`ops worker ${this.options.worker}: stopped`);
  }

  /** Runs one claimed operation under its lease and writes its outcome. */
  private async execute(operation: ClaimedOperation, signal: AbortSignal): Promise<void> {
    const { id } = operation;
    const name = `${operation.kind} ${operation.tenant}/${operation.store} (${id})`;
    this.options.log(`ops worker: ${operation.takenOver ? 'took over' : 'claimed'} ${name}`);
    let lost = false;
    const renewal = setInterval(
      () => {
        this.requests.renew(id, this.options.worker, this.options.leaseMs).then(
          (held) => {
            if (!held && !lost) {
              lost = true;
              this.options.log(`ops worker: lost the lease of ${name}; its outcome will not be written by this worker`);
            }
          },
          (error: unknown) => this.options.log(`ops worker: renewing the lease of ${name} failed: ${messageOf(error)}`),
        );
      },
      Math.max(100, Math.floor(this.options.leaseMs / 3)),
    );
    // Phases are written in order, one after another, without holding the operation up.
    let phases: Promise<unknown> = Promise.resolve();
    const onPhase = (phase: string): Promise<unknown> => {
      this.options.log(`ops worker: ${name}: ${phase}`);
      phases = phases.then(() => this.requests.recordPhase(id, this.options.worker, phase)).catch(() => undefined);
      return phases;
    };
    let outcome: OperationOutcome | 'release';
    try {
      outcome = await this.outcomeOf(operation, onPhase, signal);
    } finally {
      clearInterval(renewal);
      await phases;
    }
    const written =
      outcome === 'release'
        ? await this.requests.release(id, this.options.worker)
        : await this.requests.finish(id, this.options.worker, outcome);
    const said =
      outcome === 'release' ? 'released' : outcome.state === 'failed' ? `failed: ${outcome.code}` : 'succeeded';
    this.options.log(`ops worker: ${name} ${said}${written ? '' : ' (not recorded: the operation was taken over)'}`);
  }

  private async outcomeOf(
    operation: ClaimedOperation,
    onPhase: (phase: string) => Promise<unknown>,
    signal: AbortSignal,
  ): Promise<OperationOutcome | 'release'> {
    try {
      if (!isStoreName(operation.store))
        throw new OpsFailure(OpsWorkerErrorCode.OPERATION_INVALID, `unknown store ${String(operation.store)}`);
      if (operation.kind === 'migrate') return await this.migrate(operation, onPhase, signal);
      if (operation.takenOver && !UNTOUCHED_PHASES.has(operation.takenOver.phase))
        return await this.afterLostMove(operation);
      return { state: 'succeeded', report: moveSummary(await this.move(operation, onPhase)) };
    } catch (error) {
      if (operation.kind === 'migrate' && signal.aborted) return 'release';
      if (!isCodedError(error) && !(error instanceof OpsFailure))
        this.options.log(`ops worker: ${operation.id}: unexpected error: ${messageOf(error)}`);
      return {
        state: 'failed',
        code: isCodedError(error) || error instanceof OpsFailure ? error.code : 'INTERNAL',
        message:
          isCodedError(error) || error instanceof OpsFailure ? error.message : "internal error (see the worker's log)",
      };
    }
  }

  private async move(operation: ClaimedOperation, onPhase: (phase: string) => Promise<unknown>): Promise<MoveReport> {
    const { targetKind, targetServer } = moveParams(operation);
    await onPhase('resolve target server');
    const to = await this.serverUrlFor(operation.store, targetServer);
    // Recorded before anything can change: a worker lost from here on is not simply run again.
    await onPhase(START_MOVE);
    return this.mover.move({
      slug: operation.tenant,
      store: operation.store,
      to,
      kind: targetKind,
      onProgress: (phase) => void onPhase(phase),
    });
  }

  /**
   * A move whose worker was lost after it had started changing things: it is not run again (its
   * target may hold a partial copy, which a new move would refuse). Its outcome is read from the
   * catalog: the placement already at the target means the lost worker switched it.
   */
  private async afterLostMove(operation: ClaimedOperation): Promise<OperationOutcome> {
    const { targetKind, targetServer } = moveParams(operation);
    const phase = operation.takenOver?.phase ?? 'unknown';
    const placement = await this.cli.catalog.getPlacementFresh(parseTenantSlug(operation.tenant), operation.store);
    if (placement.serverId === targetServer && placement.kind === targetKind) {
      return {
        state: 'succeeded',
        report: {
          takenOver: true,
          note: `the placement was switched by ${operation.takenOver?.worker ?? 'the lost worker'} before it stopped (at "${phase}"); its report was lost`,
          kind: { after: placement.kind },
          to: placement.serverId,
          placementVersion: { after: placement.version },
        },
      };
    }
    return {
      state: 'failed',
      code: OpsWorkerErrorCode.OPERATION_INTERRUPTED,
      message:
        `the worker ${operation.takenOver?.worker ?? ''} stopped during "${phase}" and its lease expired; the placement was not switched ` +
        `(still ${placement.kind} on ${placement.serverId}) and the tenant is served from it. ` +
        (phase === 'switch placement'
          ? 'The old copy may have been closed at the switch (a schema renamed to <schema>_m<stamp>, a database refusing connections): see docs/operations.md, "Moving a tenant", to reopen it. '
          : '') +
        `The target ${targetServer} may hold a partial copy: drop it before moving again.`,
    };
  }

  /**
   * The administrative URL of the server `serverId` for `store`: this worker's default server of
   * the store (`<PREFIX>_SERVER_URL`) when it is that one, else the URL of a placement the store
   * already has there (its password opened from the catalog; for a placement with a login of its
   * own, the provisioning login kept for it). Never a URL from the request.
   */
  private async serverUrlFor(store: StoreName, serverId: string): Promise<string> {
    const variable = defaultServerVariable(store);
    const configured = variable ? this.cli.config[variable] : undefined;
    if (configured && idOf(configured) === serverId) return configured;
    const tenant = await this.requests.tenantOnServer(store, serverId);
    if (tenant) {
      const placement = await this.cli.catalog.getPlacementFresh(tenant, store);
      if (placement.serverId === serverId) {
        // A placement with a login of its own reaches its database only: the provisioning login
        // kept for it reaches the server.
        if (!isTenantLogin(parseServerUrl(placement.serverUrl).username)) return placement.serverUrl;
        const record = await this.cli.catalog.findTenantFresh(tenant);
        const provisioner = record && (await this.cli.catalogAdmin.placementProvisionerUrl(record.id, store));
        if (provisioner) return provisioner;
      }
    }
    throw new OpsFailure(
      OpsWorkerErrorCode.OPERATION_TARGET_UNKNOWN,
      `the ${store} server ${serverId} is neither this worker's ${variable ?? 'default server'} nor a server the ${store} store's placements use`,
    );
  }

  private async migrate(
    operation: ClaimedOperation,
    onPhase: (phase: string) => Promise<unknown>,
    signal: AbortSignal,
  ): Promise<OperationOutcome> {
    const store = operation.store;
    const job = migrateJob(this.cli.catalog, {
      stores: [store],
      dryRun: false,
      concurrency: 1,
      tenantTimeoutMs: MIGRATE_TIMEOUT_MS,
    });
    try {
      void onPhase('migrate');
      const results: StoreMigration[] = await job.run(parseTenantSlug(operation.tenant), {
        signal,
        now: new Date(),
        messages: this.cli.messages,
      });
      const applied = results.flatMap((r) => ('applied' in r ? r.applied : []));
      void onPhase(`applied ${applied.length} migration(s)`);
      return { state: 'succeeded', report: { migrationsApplied: applied.length, applied } };
    } finally {
      await job.close();
    }
  }
}

function moveParams(operation: ClaimedOperation): { targetKind: string; targetServer: string } {
  const { targetKind, targetServer } = operation.params as { targetKind?: unknown; targetServer?: unknown };
  if (typeof targetKind !== 'string' || typeof targetServer !== 'string')
    throw new OpsFailure(OpsWorkerErrorCode.OPERATION_INVALID, 'a move needs targetKind and targetServer');
  return { targetKind, targetServer };
}

/** The report kept in the catalog: the move's own (no password in it), with the rows copied added up. */
function moveSummary(report: MoveReport): Record<string, unknown> {
  return { ...report, rowsCopied: report.tables.reduce((sum, t) => sum + t.target.rows, 0) };
}

/** `<PREFIX>_SERVER_URL` of a store (its manifest's prefix). */
function defaultServerVariable(store: StoreName): `${StoreManifest['configPrefix']}_SERVER_URL` | undefined {
  const manifest = storeManifests().find((m) => m.name === store);
  return manifest ? `${manifest.configPrefix}_SERVER_URL` : undefined;
}

function idOf(serverUrl: string): string | undefined {
  try {
    return parseServerUrl(serverUrl).id;
  } catch {
    return undefined;
  }
}

function messageOf(error: unknown): string {
  return isCodedError(error)
    ? `${error.code}: ${error.message}`
    : error instanceof Error
      ? error.message
      : String(error);
}
