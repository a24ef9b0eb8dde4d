import { Injectable } from '@nestjs/common';
import { CatalogService } from '#polystore/catalog';
import type { AuditVerdictView, AuditVerifyMode } from '#polystore/messaging';
import { RequestContextStore } from '#polystore/tenancy';
import { TenantKeyring } from '../crypto/tenant-keyring.service.js';
import { ChainVerifier, type ChainPoint, type ChainVerdict } from './audit-chain.util.js';
import { CheckpointSigner, type AuditCheckpoint, type CheckpointStatus } from './audit-checkpoint.util.js';
import { AuditCheckpointRepository } from './audit-checkpoint.repository.js';
import { AuditRepository } from './audit.repository.js';

/** Records read per query: the most a check holds in memory, whatever the chain's length. */
export const VERIFY_PAGE = 1_000;

/** A check of the current tenant's chain, with what the checkpoint writer needs to go on. */
export interface ChainExamination {
  readonly verdict: AuditVerdictView;
  /** The tenant's id in the catalog (null: the catalog does not know the slug any more). */
  readonly tenantId: string | null;
  /** The head the check ran up to. */
  readonly head: ChainPoint | null;
  /** The stored checkpoint and what it is worth. */
  readonly stored: { readonly checkpoint: AuditCheckpoint; readonly status: CheckpointStatus } | null;
}

/**
 * Checks a tenant's audit chain against its head and its latest signed checkpoint (in the
 * catalog), reading the records page by page ({@link VERIFY_PAGE}) up to the head read first, so
 * records appended meanwhile are left for the next check and memory stays bounded.
 *
 * - `checkpoint` mode (the default) starts at the checkpoint's record: that record must be the
 *   one the checkpoint signed, and the chain from it to the head must hold. Time and memory are
 *   bounded by what was appended since the checkpoint, not by the chain's length.
 * - `full` mode starts at the first record and still compares the checkpoint's record on the way.
 * - Either way, when the last stored record is below the checkpoint's seq, the records between
 *   are reported `truncated` (deleting the newest records and moving the head back is otherwise
 *   invisible: the rest of the chain is intact).
 * - A checkpoint whose signature does not match is `checkpoint forged` (the catalog was written
 *   by someone without the key), one signed by a master key version not configured is `checkpoint
 *   unverifiable`: neither is used (the whole chain is walked instead) and neither lets the check
 *   pass, since marking a checkpoint unverifiable would otherwise hide a truncation.
 */
@Injectable()
export class AuditVerifier {
  constructor(
    private readonly repository: AuditRepository,
    private readonly checkpoints: AuditCheckpointRepository,
    private readonly signer: CheckpointSigner,
    private readonly keyring: TenantKeyring,
    private readonly catalog: CatalogService,
  ) {}

  /** Checks the current tenant's chain (see the class). */
  async verify(mode: AuditVerifyMode): Promise<AuditVerdictView> {
    return (await this.examine(mode)).verdict;
  }

  /** {@link verify}, with the head, the tenant's id and the stored checkpoint it used. */
  async examine(mode: AuditVerifyMode): Promise<ChainExamination> {
    const tenant = RequestContextStore.requireTenant();
    const keys = await this.keyring.current();
    const tenantId = (await this.catalog.findTenant(tenant))?.id ?? null;
    const checkpoint = tenantId ? await this.checkpoints.latest(tenantId) : null;
    const stored = checkpoint ? { checkpoint, status: this.signer.check(checkpoint) } : null;
    const trusted = stored?.status === 'verified' ? stored.checkpoint : undefined;
    const head = await this.repository.head();
    const lastSeq = await this.repository.lastSeq();

    const fromCheckpoint = mode === 'checkpoint' && trusted !== undefined;
    const truncated = trusted !== undefined && lastSeq < trusted.seq;
    let chain: ChainVerdict;
    if (!head) {
      chain = { ...EMPTY, valid: false, firstInvalidSeq: 1, reason: 'head missing' };
    } else if (fromCheckpoint && truncated) {
      chain = { ...EMPTY, valid: false, firstInvalidSeq: lastSeq + 1, reason: 'truncated' };
    } else {
      const verifier = new ChainVerifier(keys.audit, { ...(trusted ? { checkpoint: trusted } : {}), fromCheckpoint });
      await this.walk(verifier, head.seq);
      chain = verifier.finish(head);
    }

    let verdict: ChainVerdict = chain;
    let missing: AuditVerdictView['missing'] = null;
    if (trusted && truncated && (chain.valid || (chain.firstInvalidSeq ?? 0) > lastSeq)) {
      // The chain up to its last record may hold; the checkpoint proves there was more.
      missing = { fromSeq: lastSeq + 1, toSeq: Math.max(trusted.seq, head?.seq ?? 0) };
      verdict = { ...chain, valid: false, firstInvalidSeq: lastSeq + 1, reason: 'truncated' };
    } else if (stored && stored.status !== 'verified' && chain.valid) {
      // Not trusted, so not used; but a checkpoint that cannot be checked is no proof of anything.
      verdict = { ...chain, valid: false, reason: `checkpoint ${stored.status}` };
    }
    return {
      tenantId,
      head,
      stored,
      verdict: {
        ...verdict,
        mode: fromCheckpoint ? 'checkpoint' : 'full',
        headSeq: head?.seq ?? null,
        checkpoint: stored
          ? { seq: stored.checkpoint.seq, at: stored.checkpoint.at.toISOString(), status: stored.status }
          : null,
        missing,
      },
    };
  }

  /** Feeds the verifier every record from where it starts up to `toSeq`, one page at a time. */
  private async walk(verifier: ChainVerifier, toSeq: number): Promise<void> {
    let afterSeq = verifier.nextSeq - 1;
    for (;;) {
      const rows = await this.repository.pageUpTo(afterSeq, toSeq, VERIFY_PAGE);
      if (!verifier.feed(rows) || rows.length < VERIFY_PAGE) return;
      afterSeq = rows[rows.length - 1]!.seq;
    }
  }
}

const EMPTY: ChainVerdict = {
  valid: true,
  checked: 0,
  firstInvalidSeq: null,
  reason: null,
  fromSeq: null,
  toSeq: null,
};
