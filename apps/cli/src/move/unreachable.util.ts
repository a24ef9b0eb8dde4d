import { classifySqlError, DataRouterErrorCode, DataRouterException } from '#polystore/data-router';

/**
 * Runs `work`; a failure that means "cannot reach or use that server" is rethrown as
 * `wrap(reason)`, where the reason is a driver code (`ECONNREFUSED`, `28P01`...), never a message
 * that could carry SQL or credentials. Other failures pass through unchanged.
 */
export async function asUnreachable<T>(
  work: () => Promise<T>,
  wrap: (reason: string, cause: unknown) => Error,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const reason = unreachableReason(error);
    if (reason !== undefined) throw wrap(reason, error);
    throw error;
  }
}

function unreachableReason(error: unknown): string | undefined {
  if (error instanceof DataRouterException && error.code === DataRouterErrorCode.DATABASE_UNAVAILABLE) {
    const reason = error.details?.['reason'];
    return typeof reason === 'string' ? reason : 'unavailable';
  }
  if (classifySqlError(error) !== 'connection') return undefined;
  return codeOf(error) ?? 'connection failed';
}

function codeOf(error: unknown): string | undefined {
  const e = error as { code?: unknown; driverError?: { code?: unknown } } | null;
  const code = e?.driverError?.code ?? e?.code;
  return typeof code === 'string' ? code : undefined;
}
