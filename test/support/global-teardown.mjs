// After the suite: releases the test-run lock that global-setup.mjs took (its connection).
export default async function globalTeardown() {
  await globalThis.__polystoreTestRunLock?.end().catch(() => undefined);
}
