import { SagaState } from '#polystore/saga';
import type { ConsoleSession } from '../console-session.util.js';
import { html, type SafeHtml } from '../html.util.js';
import type { SagaDto } from '../../sagas/saga.dto.js';
import { csrfField, layout, when } from './layout.view.js';

/** The states in which an operator may retry or skip a saga (the admin API's). */
export const PARKED_STATES: readonly string[] = [SagaState.FAILED, SagaState.COMPENSATION_FAILED];

/** The code of a logged error (`{ code, message, ... }`), if it has one. */
function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

function messageOf(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : '';
}

/** One `<tr data-saga>` per saga: id (link), type, tenant, state, updated, error code. */
function sagaRows(sagas: readonly SagaDto[]): SafeHtml {
  return html`${sagas.map(
    (saga) =>
      html`<tr data-saga="${saga.id}" data-state="${saga.state}">
        <td>
          <a href="/console/sagas/${saga.id}"><code>${saga.id}</code></a>
        </td>
        <td>${saga.name}</td>
        <td>${saga.tenant ?? '—'}</td>
        <td class="state ${saga.state}">${saga.state}</td>
        <td>${when(saga.updatedAt)}</td>
        <td>${codeOf(saga.error)}</td>
      </tr> `,
  )}`;
}

/** The sagas page: a state filter and the newest sagas (in that state). */
/** `#sagas`: the sagas page's table, and the tenant page's last sagas. */
export function sagasTable(sagas: readonly SagaDto[]): SafeHtml {
  return html`<table id="sagas">
    <thead>
      <tr>
        <th>Id</th>
        <th>Type</th>
        <th>Tenant</th>
        <th>State</th>
        <th>Updated</th>
        <th>Error</th>
      </tr>
    </thead>
    <tbody>
      ${sagaRows(sagas)}
    </tbody>
  </table>`;
}

export function sagasPage(sagas: readonly SagaDto[], state: string | undefined, session: ConsoleSession): SafeHtml {
  return layout(
    'Sagas',
    html`<form method="get" action="/console/sagas" class="filter">
        <label for="state">State</label>
        <select id="state" name="state">
          <option value="">any</option>
          ${Object.values(SagaState).map((s) => html`<option value="${s}" ${s === state ? html` selected` : ''}>${s}</option>`)}
        </select>
        <button id="filter" type="submit">Show</button>
      </form>
      ${sagasTable(sagas)}`,
    session,
  );
}

/** The operator's form for `action` on a parked saga, keyed so that a double submit acts once. */
function actionForm(
  saga: SagaDto,
  action: 'retry' | 'skip',
  idempotencyKey: string,
  session: ConsoleSession,
): SafeHtml {
  const path = `/console/sagas/${saga.id}/${action}`;
  const question =
    action === 'retry' ? 'Retry what failed in this saga?' : 'Give up on what failed and close this saga?';
  return html`<form method="post" action="${path}" class="action">
    ${csrfField(session)}<input type="hidden" name="idempotencyKey" value="${idempotencyKey}" /><button
      id="${action}"
      type="submit"
      hx-post="${path}"
      hx-target="body"
      hx-confirm="${question}"
    >
      ${action === 'retry' ? 'Retry' : 'Skip'}
    </button>
  </form>`;
}

/**
 * One saga: state, error, each step with its state and error, the SHA-256 of its payload (never
 * the payload: it can hold personal data), and retry/skip while it is parked.
 */
export function sagaPage(
  saga: SagaDto,
  payloadDigest: string,
  keys: { retry: string; skip: string },
  session: ConsoleSession,
): SafeHtml {
  const parked = PARKED_STATES.includes(saga.state);
  return layout(
    `Saga ${saga.id}`,
    html`<section id="saga" data-saga="${saga.id}" data-state="${saga.state}">
      <dl>
        <dt>Type</dt>
        <dd>${saga.name} v${saga.version}</dd>
        <dt>Tenant</dt>
        <dd>${saga.tenant ? html`<a href="/console/tenants/${saga.tenant}">${saga.tenant}</a>` : '—'}</dd>
        <dt>State</dt>
        <dd id="saga-state" class="state ${saga.state}">${saga.state}</dd>
        <dt>Error</dt>
        <dd id="saga-error">${saga.error ? html`<code>${codeOf(saga.error)}</code> ${messageOf(saga.error)}` : '—'}</dd>
        <dt>Payload SHA-256</dt>
        <dd><code id="payload-digest">${payloadDigest}</code></dd>
        <dt>Created</dt>
        <dd>${when(saga.createdAt)}</dd>
        <dt>Updated</dt>
        <dd>${when(saga.updatedAt)}</dd>
      </dl>
      ${parked ? html`<div class="actions">${actionForm(saga, 'retry', keys.retry, session)} ${actionForm(saga, 'skip', keys.skip, session)}</div>` : ''}
      <table id="steps">
        <thead>
          <tr>
            <th>Step</th>
            <th>State</th>
            <th>Attempts</th>
            <th>Compensations</th>
            <th>Error</th>
          </tr>
        </thead>
        <tbody>
          ${saga.steps.map(
            (step) =>
              html`<tr data-step="${step.step}" data-state="${step.state}">
                <td>${step.step}</td>
                <td class="state ${step.state}">${step.state}</td>
                <td>${step.attempts}</td>
                <td>${step.compensationAttempts}</td>
                <td>${step.error ? html`<code>${codeOf(step.error)}</code> ${messageOf(step.error)}` : ''}</td>
              </tr> `,
          )}
        </tbody>
      </table>
    </section>`,
    session,
  );
}
