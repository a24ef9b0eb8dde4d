import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { AuditCheckpointOutcome } from '#polystore/messaging';
import { runAsTenant, type TenantSlug } from '#polystore/tenancy';
import { AUDIT_CHECKPOINT_OPTIONS } from '../secure.tokens.js';
import { AuditCheckpointRepository } from './audit-checkpoint.repository.js';
import { CheckpointSigner } from './audit-checkpoint.util.js';
import { AuditVerifier } from './audit-verifier.service.js';

/** When the secure store checkpoints a tenant's chain (`AUDIT_CHECKPOINT_*`). */
export interface AuditCheckpointOptions {
  /** A tenant is checkpointed once this many records were appended since its last checkpoint... */
  readonly everyEntries: number;
  /** ...or this long after the first record appended since then, whichever comes first. */
  readonly intervalMs: number;
  /** Tenants checkpointed at once by this process. */
  readonly concurrency: number;
  /** One tenant's checkpoint (its check included) longer than this is given up and tried later. */
  readonly timeoutMs: number;
  /** What a shutdown waits for the last checkpoints. */
  readonly shutdownGraceMs: number;
}

/** A tenant (or its data) that is gone: nothing to checkpoint any more, never retried. */
const GONE = new Set(['TENANT_NOT_FOUND', 'PLACEMENT_NOT_FOUND', '3F000', '3D000', '42P01']);

interface Progress {
  /** Records appended since this process last checkpointed the tenant (or tried to). */
  entries: number;
  /** When the first of them was appended (ms). */
  since: number;
}

/**
 * Writes each tenant's signed audit checkpoint to the catalog, off the hot path.
 *
 * An append only counts ({@link noteAppended}: a map update, no I/O). A tenant is due once
 * `everyEntries` records were appended, or `intervalMs` after the first of them; then, in the
 * background and at most `concurrency` tenants at a time, its chain is checked from its last
 * checkpoint to its head ({@link AuditVerifier}, page by page) and, if it holds, the head is
 * signed and replaces the checkpoint (compare-and-set: replicas never step back). A chain that
 * does not hold, or a checkpoint that is forged or unverifiable, is never signed over: the error
 * is logged and `verify` keeps reporting it. A failure (a database down) is retried after
 * another interval.
 *
 * What this process counted is lost if it dies (SIGKILL) before the tenant was due: the next
 * append counts again, and the `audit-checkpoint` job ({@link checkpointCurrentTenant} through
 * `secure.audit.checkpoint`) visits every tenant periodically. A restart needs nothing of this
 * process's memory: the checkpoint in the catalog is where the next one starts.
 */
@Injectable()
export class AuditCheckpointer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(AuditCheckpointer.name);
  private readonly pending = new Map<TenantSlug, Progress>();
  private readonly running = new Map<TenantSlug, Promise<void>>();
  private timer?: NodeJS.Timeout;
  /** Shutting down: a failed tenant is not tried again (each pending tenant gets one attempt). */
  private stopping = false;

  constructor(
    @Inject(AUDIT_CHECKPOINT_OPTIONS) private readonly options: AuditCheckpointOptions,
    private readonly verifier: AuditVerifier,
    private readonly checkpoints: AuditCheckpointRepository,
    private readonly signer: CheckpointSigner,
  ) {}

  onApplicationBootstrap(): void {
    const tickMs = Math.max(50, Math.min(1_000, Math.floor(this.options.intervalMs / 2)));
    this.timer = setInterval(() => this.startDue(Date.now()), tickMs);
    this.timer.unref();
  }

  /** Checkpoints what is pending (bounded by `shutdownGraceMs`), so a clean restart loses nothing. */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    this.stopping = true;
    const deadline = Date.now() + this.options.shutdownGraceMs;
    while ((this.pending.size > 0 || this.running.size > 0) && Date.now() < deadline) {
      this.startDue(Number.POSITIVE_INFINITY);
      const left = deadline - Date.now();
      await Promise.race([
        Promise.allSettled([...this.running.values()]),
        new Promise((resolve) => setTimeout(resolve, Math.max(0, left)).unref()),
      ]);
    }
    if (this.pending.size > 0)
      this.logger.warn({ tenants: this.pending.size }, 'shutdown before every audit checkpoint was written');
  }

  /** `entries` records were appended to `tenant`'s chain (committed, or about to be). */
  noteAppended(tenant: TenantSlug, entries: number): void {
    let progress = this.pending.get(tenant);
    if (!progress) {
      progress = { entries: 0, since: Date.now() };
      this.pending.set(tenant, progress);
    }
    progress.entries += entries;
    if (progress.entries >= this.options.everyEntries) this.start(tenant);
  }

  /** Forgets what was counted for `tenant`: its data is being dropped, nothing is left to checkpoint. */
  forget(tenant: TenantSlug): void {
    this.pending.delete(tenant);
  }

  /**
   * Checkpoints the current tenant's chain now if its head moved since its checkpoint (or the
   * checkpoint was signed by an older master key version), after checking the records between.
   */
  async checkpointCurrentTenant(): Promise<AuditCheckpointOutcome> {
    const { verdict, tenantId, head, stored } = await this.verifier.examine('checkpoint');
    const current = stored?.checkpoint.seq ?? null;
    if (!tenantId) return { outcome: 'skipped', seq: null, reason: 'the tenant is not in the catalog' };
    if (!head || head.seq === 0) return { outcome: 'skipped', seq: current, reason: 'the chain is empty' };
    if (!verdict.valid) return { outcome: 'refused', seq: current, reason: verdict.reason };
    if (
      stored?.status === 'verified' &&
      stored.checkpoint.seq === head.seq &&
      stored.checkpoint.keyVersion === this.signer.keyVersion
    )
      return { outcome: 'unchanged', seq: current, reason: null };
    const next = this.signer.sign(tenantId, head, new Date());
    if (await this.checkpoints.advance(stored?.checkpoint ?? null, next))
      return { outcome: 'written', seq: next.seq, reason: null };
    return { outcome: 'skipped', seq: current, reason: 'another process wrote a checkpoint meanwhile' };
  }

  private startDue(now: number): void {
    for (const [tenant, progress] of this.pending) {
      if (this.running.size >= this.options.concurrency) return;
      if (progress.entries >= this.options.everyEntries || now - progress.since >= this.options.intervalMs)
        this.start(tenant);
    }
  }

  private start(tenant: TenantSlug): void {
    const progress = this.pending.get(tenant);
    if (!progress || this.running.has(tenant) || this.running.size >= this.options.concurrency) return;
    this.pending.delete(tenant);
    const run = runAsTenant(tenant, () => this.checkpointCurrentTenant(), this.options.timeoutMs)
      .then((result) => this.report(tenant, result))
      .catch((error: unknown) => {
        // Tried again one interval from now, with whatever was appended meanwhile.
        const again = this.pending.get(tenant);
        if (!this.stopping && !GONE.has((error as { code?: string }).code ?? ''))
          this.pending.set(tenant, { entries: progress.entries + (again?.entries ?? 0), since: Date.now() });
        this.logger.warn(
          { tenant, code: (error as { code?: string }).code, err: error },
          'audit checkpoint failed; retried later',
        );
      })
      .finally(() => this.running.delete(tenant));
    this.running.set(tenant, run);
  }

  private report(tenant: TenantSlug, result: AuditCheckpointOutcome): void {
    if (result.outcome === 'refused')
      this.logger.error({ tenant, seq: result.seq, reason: result.reason }, 'audit chain not checkpointed');
    else this.logger.debug({ tenant, ...result }, 'audit checkpoint');
  }
}
