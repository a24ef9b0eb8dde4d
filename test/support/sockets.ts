import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/**
 * The local TCP ports of the sockets the processes `pids` hold open (Linux: their fds' socket
 * inodes looked up in /proc/net/tcp and tcp6). A server's session list names each client by its
 * port (MariaDB's PROCESSLIST.HOST is `127.0.0.1:<port>`), so this tells which sessions are theirs
 * when other test suites share the server.
 */
export function tcpPortsOf(pids: readonly number[]): Set<number> {
  const inodes = new Set<string>();
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // exited meanwhile
    }
    for (const fd of fds) {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (match) inodes.add(match[1]!);
      } catch {
        // closed meanwhile
      }
    }
  }
  const ports = new Set<number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // fields: sl, local_address (hex ip:port), rem_address, st, queues, tr, retrnsmt, uid, timeout, inode
      if (fields.length > 9 && inodes.has(fields[9]!)) ports.add(parseInt(fields[1]!.split(':')[1]!, 16));
    }
  }
  return ports;
}
