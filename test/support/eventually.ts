/**
 * Waits on a condition, never on a fixed sleep: polls `probe` until it returns without throwing
 * (or returns something truthy), and fails with the last error after `timeoutMs`.
 */
export async function eventually<T>(
  probe: () => T | Promise<T>,
  {
    timeoutMs = 10_000,
    intervalMs = 25,
    what = 'condition',
  }: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<Exclude<T, false | null | undefined>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== false && value !== undefined && value !== null)
        return value as Exclude<T, false | null | undefined>;
      lastError = new Error(`${what} not met (got ${String(value)})`);
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}: ${(lastError as Error)?.message ?? lastError}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
