import { chmodSync, renameSync, rmSync, writeFileSync } from 'node:fs';

/**
 * Writes `file` with mode 0600 through a temporary file and a rename, so a reader (a nats-server
 * reloading its configuration, a service reading its seed) never sees half a file.
 */
export function writeAtomically(file: string, text: string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, text, { mode: 0o600 });
    chmodSync(temporary, 0o600);
    renameSync(temporary, file);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}
