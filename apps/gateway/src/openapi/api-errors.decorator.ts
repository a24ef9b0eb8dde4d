import { ApiErrors } from '#polystore/runtime';

/** The errors any tenant route may answer (host, key, scope, rate limits, stores). */
export const ApiTenantErrors = (): ClassDecorator =>
  ApiErrors({ 400: true, 401: true, 403: true, 429: true, 500: true, 503: true, 504: true });

/** The errors any admin route may answer (host, admin token, catalog and stores). */
export const ApiAdminErrors = (): ClassDecorator =>
  ApiErrors({
    400: 'VALIDATION_FAILED (each problem in `errors`), MALFORMED_JSON, WRONG_HOST (admin routes are on the base domain)',
    401: 'UNAUTHENTICATED: the admin token is required',
    429: 'TOO_MANY_AUTH_FAILURES from this address; wait `Retry-After` seconds',
    500: true,
    503: true,
    504: true,
  });

/** The errors of a route that takes a JSON body. */
export const ApiBodyErrors = (): MethodDecorator => ApiErrors({ 413: true, 415: true });

export { ApiErrors };
