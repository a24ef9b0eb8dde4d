import { describe, expect, it } from '@jest/globals';
import type { OperationRecord } from '#polystore/catalog';
import { moveFormSchema } from '../src/console/console.schemas.js';
import { operationSection } from '../src/console/views/operations.view.js';

const AT = new Date('2026-12-07T10:00:00.000Z');

function operation(overrides: Partial<OperationRecord> = {}): OperationRecord {
  return {
    id: '00000000-0000-4000-8000-000000000001',
    kind: 'move',
    tenant: 'acme',
    tenantId: '00000000-0000-4000-8000-000000000002',
    store: 'secure',
    params: { targetKind: 'dedicated', targetServer: 'postgres://10.0.0.2:5432' },
    state: 'queued',
    phase: 'queued',
    events: [{ at: AT.toISOString(), phase: 'queued' }],
    report: null,
    errorCode: null,
    errorMessage: null,
    requestedBy: 'console:abcdefgh',
    worker: null,
    leaseUntil: null,
    attempts: 0,
    createdAt: AT,
    startedAt: null,
    finishedAt: null,
    readAt: new Date(AT.getTime() + 1_000),
    ...overrides,
  };
}

describe('console operations - the operation page and the move form', () => {
  it('console operations - an unfinished operation polls its fragment every second; a finished one does not, and shows the write pause', () => {
    expect(operationSection(operation()).value).toContain('hx-trigger="every 1s"');
    const done = operationSection(
      operation({
        state: 'succeeded',
        report: {
          writesPausedMs: 42,
          durationMs: 900,
          rowsCopied: 7,
          tables: [],
          placementVersion: { before: 1, after: 2 },
        },
      }),
    ).value;
    expect(done).not.toContain('hx-trigger');
    expect(done).toContain('<dd id="writes-paused">42 ms</dd>');
    expect(done).toContain('<dd id="rows-copied">7</dd>');
  });

  it('console operations - "no ops worker is running" once a request waited over 10 s, or its worker\'s lease expired', () => {
    expect(operationSection(operation()).value).not.toContain('id="no-worker"');
    expect(operationSection(operation({ readAt: new Date(AT.getTime() + 10_001) })).value).toContain('id="no-worker"');
    const lost = operation({ state: 'running', worker: 'cli:a', leaseUntil: AT, readAt: new Date(AT.getTime() + 1) });
    expect(operationSection(lost).value).toContain('id="no-worker"');
  });

  it('console operations - the error and the phases are escaped', () => {
    const page = operationSection(
      operation({
        state: 'failed',
        errorCode: 'X',
        errorMessage: '<script>',
        events: [{ at: AT.toISOString(), phase: '<b>' }],
      }),
    ).value;
    expect(page).not.toContain('<script>');
    expect(page).toContain('&lt;b&gt;');
  });

  it('console operations - the move form takes a server id and a kind, never a URL with credentials', () => {
    expect(
      moveFormSchema.safeParse({ targetKind: 'dedicated', targetServer: 'postgres://10.0.0.2:5432' }).success,
    ).toBe(true);
    expect(
      moveFormSchema.safeParse({ targetKind: 'dedicated', targetServer: 'postgres://u:p@10.0.0.2:5432' }).success,
    ).toBe(false);
    expect(moveFormSchema.safeParse({ targetKind: 'bogus', targetServer: 'postgres://10.0.0.2:5432' }).success).toBe(
      false,
    );
  });
});
