// CPU accounting per component, from /proc (Linux only; elsewhere the numbers are null).
//
// A snapshot reads: the machine's busy and total time (/proc/stat), each started app's own CPU
// time, PostgreSQL's (every live `postgres` process plus what the postmaster has reaped from
// exited backends, so connections opened and closed inside the window are counted), the NATS
// server's, MariaDB's (`mariadbd`), and the bench process's own (autocannon runs inside it). Two snapshots give, per
// component, CPU milliseconds per request: where the machine's time went.
import { readdirSync, readFileSync } from 'node:fs';

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** Fields of /proc/<pid>/stat after the command name (which may contain spaces). */
function procStat(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = text.lastIndexOf(')');
    const comm = text.slice(text.indexOf('(') + 1, close);
    const f = text.slice(close + 2).split(' ');
    // f[0] = state (field 3), so field n is f[n - 3]
    return {
      comm,
      ppid: Number(f[1]),
      utime: Number(f[11]),
      stime: Number(f[12]),
      cutime: Number(f[13]),
      cstime: Number(f[14]),
    };
  } catch {
    return null;
  }
}

/** All processes, by pid. */
function allProcesses() {
  const byPid = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(entry);
    if (stat) byPid.set(Number(entry), stat);
  }
  return byPid;
}

/** CPU ticks of every process named `comm`, plus the reaped children of the top one of them. */
function ticksOfServer(processes, comm) {
  let ticks = 0;
  for (const stat of processes.values()) {
    if (stat.comm !== comm) continue;
    ticks += stat.utime + stat.stime;
    const parent = processes.get(stat.ppid);
    if (!parent || parent.comm !== comm) ticks += stat.cutime + stat.cstime;
  }
  return ticks;
}

/** Busy and total ticks of the whole machine. */
function machineTicks() {
  const [, ...values] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const n = values.map(Number);
  const idle = n[3] + (n[4] ?? 0); // idle + iowait
  const total = n.slice(0, 8).reduce((a, b) => a + b, 0); // guest time is already in user
  return { busy: total - idle, total };
}

/** A CPU snapshot; `apps` maps a component name to a pid. */
export function cpuSnapshot(apps) {
  const self = process.cpuUsage();
  if (process.platform !== 'linux') return { at: Date.now(), linux: false, self };
  const processes = allProcesses();
  const perApp = {};
  for (const [name, pid] of Object.entries(apps)) {
    const stat = processes.get(pid);
    perApp[name] = stat ? stat.utime + stat.stime : null;
  }
  return {
    at: Date.now(),
    linux: true,
    machine: machineTicks(),
    apps: perApp,
    postgres: ticksOfServer(processes, 'postgres'),
    nats: ticksOfServer(processes, 'nats-server'),
    mariadb: ticksOfServer(processes, 'mariadbd'),
    self,
  };
}

/**
 * CPU used between two snapshots: per component, milliseconds per request and share of the
 * machine (100% = every core busy); `other` is what nobody above accounts for (kernel, other
 * users of the machine).
 */
export function cpuBetween(before, after, requests) {
  const perRequest = (ms) => (requests > 0 && ms !== null ? round(ms / requests, 3) : null);
  const wallMs = after.at - before.at;
  const selfMs = (after.self.user - before.self.user + after.self.system - before.self.system) / 1000;
  if (!before.linux)
    return { wallMs, components: { bench: { ms: round(selfMs, 0), msPerRequest: perRequest(selfMs) } } };

  const machineMs = (after.machine.busy - before.machine.busy) * TICK_MS;
  const capacityMs = (after.machine.total - before.machine.total) * TICK_MS;
  const components = {};
  const add = (name, ms) => {
    components[name] = {
      ms: ms === null ? null : round(ms, 0),
      msPerRequest: perRequest(ms),
      share: ms === null ? null : round(ms / capacityMs, 3),
    };
  };
  let accounted = selfMs;
  for (const name of Object.keys(after.apps)) {
    const a = after.apps[name];
    const b = before.apps[name];
    const ms = a === null || b === null || b === undefined ? null : (a - b) * TICK_MS;
    accounted += ms ?? 0;
    add(name, ms);
  }
  const postgresMs = (after.postgres - before.postgres) * TICK_MS;
  const natsMs = (after.nats - before.nats) * TICK_MS;
  const mariadbMs = (after.mariadb - before.mariadb) * TICK_MS;
  accounted += postgresMs + natsMs + mariadbMs;
  add('postgres', postgresMs);
  add('nats', natsMs);
  add('mariadb', mariadbMs);
  add('bench', selfMs);
  add('other', Math.max(0, machineMs - accounted));
  return { wallMs, machineBusyShare: round(machineMs / capacityMs, 3), components };
}

function round(value, digits) {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Share of all cores busy during the next `ms` milliseconds (null outside Linux). */
export async function machineBusyShare(ms) {
  if (process.platform !== 'linux') return null;
  const before = machineTicks();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const after = machineTicks();
  return round((after.busy - before.busy) / (after.total - before.total), 3);
}
