import { Injectable, Logger } from '@nestjs/common';
import { AdminAuditService } from '#polystore/catalog';
import { isCodedError } from '#polystore/platform';
import type { ConsoleSession } from './console-session.util.js';

/** A console action as the admin audit names it. */
export type ConsoleAction =
  | 'login'
  | 'login-failed'
  | 'logout'
  | 'key.revoke'
  | 'saga.retry'
  | 'saga.skip'
  | 'audit.verify'
  | 'placement.move'
  | 'placement.migrate';

/** `console:<first 8 characters of the session nonce>`, or `console:anonymous` before a login. */
export function actorOf(session: ConsoleSession | undefined): string {
  return session ? `console:${session.nonce.slice(0, 8)}` : 'console:anonymous';
}

/** The outcome written for an error: its code, or `INTERNAL` for an error without one. */
export function outcomeOf(error: unknown): string {
  return isCodedError(error) ? error.code : 'INTERNAL';
}

/**
 * Writes one admin audit row per console action, failures included. A failed write is logged and
 * does not change the action's answer (the action has happened, or failed, already).
 */
@Injectable()
export class ConsoleAudit {
  private readonly logger = new Logger(ConsoleAudit.name);

  constructor(private readonly audit: AdminAuditService) {}

  async record(
    session: ConsoleSession | undefined,
    action: ConsoleAction,
    target: string | null,
    outcome: string,
    detail?: Record<string, unknown>,
  ): Promise<void> {
    await this.audit
      .record({ actor: actorOf(session), action, target, outcome, detail: detail ?? null })
      .catch((error: unknown) => this.logger.error({ err: error, action, target }, 'admin audit write failed'));
  }

  /** Runs `work`, then writes its row: `ok`, or the error's code (and rethrows the error). */
  async around<T>(
    session: ConsoleSession | undefined,
    action: ConsoleAction,
    target: string,
    detail: Record<string, unknown>,
    work: () => Promise<T>,
  ): Promise<T> {
    try {
      const result = await work();
      await this.record(session, action, target, 'ok', detail);
      return result;
    } catch (error) {
      await this.record(session, action, target, outcomeOf(error), detail);
      throw error;
    }
  }
}
