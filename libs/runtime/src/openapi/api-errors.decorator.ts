import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';

/** The OpenAPI component every error answer refers to: the contract's `httpErrorBodySchema`. */
export const ERROR_BODY_SCHEMA = 'ErrorBody';

/** The error statuses `HttpErrorFilter` answers with. */
export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 429 | 500 | 503 | 504;

/** What a status means on any route, when the route says nothing more precise. */
const MEANING: Record<ErrorStatus, string> = {
  400: 'VALIDATION_FAILED (each problem in `errors`), MALFORMED_JSON, WRONG_HOST',
  401: 'UNAUTHENTICATED: no key, a wrong, expired or revoked key, or an unknown tenant (one answer for all)',
  403: "SCOPE_DENIED: the API key's scopes do not cover this route",
  404: 'Not found',
  409: 'Conflict',
  413: 'PAYLOAD_TOO_LARGE: the body is over the limit',
  415: 'UNSUPPORTED_MEDIA_TYPE: the body must be application/json',
  429: 'KEY_RATE_LIMITED, TENANT_RATE_LIMITED, TOO_MANY_AUTH_FAILURES or QUOTA_EXCEEDED (`quota`); wait `Retry-After` seconds when it is given',
  500: 'INTERNAL: logged with the correlation id; the body tells nothing more',
  503: 'SERVICE_UNAVAILABLE: a store (or the catalog) cannot be reached; retry after `Retry-After`',
  504: 'DEADLINE_EXCEEDED: a store did not answer in time; the outcome is unknown (retry with the same Idempotency-Key)',
};

/**
 * Documents error answers, each with the one error body (`#/components/schemas/ErrorBody`):
 * `ApiErrors({ 404: 'CUSTOMER_NOT_FOUND' })` on an operation (the text says which codes), or on a
 * controller for every operation of it. `true` keeps the status' general meaning.
 */
export function ApiErrors(errors: Partial<Record<ErrorStatus, string | true>>): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...Object.entries(errors).map(([status, text]) =>
      ApiResponse({
        status: Number(status),
        description: text === true ? MEANING[Number(status) as ErrorStatus] : text,
        schema: { $ref: `#/components/schemas/${ERROR_BODY_SCHEMA}` },
      }),
    ),
  );
}
