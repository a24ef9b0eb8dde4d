/**
 * Named crash points: a test-only hook to stop a process between two persisted states, the
 * way a power cut or an OOM kill would (SIGKILL: no cleanup, no reply, no flush).
 *
 * Points are armed once at boot from configuration (`CRASH_POINTS`, honoured only when
 * `NODE_ENV=test`); an unarmed point costs one Set lookup. Each armed point fires once.
 */
export class CrashPoints {
  private static armed = new Set<string>();

  /** Arms the given points (comma-separated names). Call once at boot, in tests only. */
  static arm(names: readonly string[]): void {
    CrashPoints.armed = new Set(names.filter((n) => n.length > 0));
  }

  /** Kills this process with SIGKILL if `name` is armed; otherwise does nothing. */
  static hit(name: string): void {
    if (!CrashPoints.armed.has(name)) return;
    CrashPoints.armed.delete(name);
    process.stderr.write(`${JSON.stringify({ level: 'fatal', msg: 'crash point hit', crashPoint: name })}\n`);
    process.kill(process.pid, 'SIGKILL');
  }
}
