// A private Mosquitto for a benchmark: dynamic security, a fresh directory, a free port,
// configured like scripts/mosquitto.sh configures the project's broker.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';

/** A free TCP port on loopback. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** A private Mosquitto with dynamic security, configured like scripts/mosquitto.sh. */
export async function startMosquitto(dir) {
  const password = randomBytes(18).toString('base64url');
  const dynsec = join(dir, 'dynamic-security.json');
  const init = spawnSync('mosquitto_ctrl', ['dynsec', 'init', dynsec, 'polystore-admin', password], {
    encoding: 'utf8',
  });
  if (init.status !== 0) throw new Error(`mosquitto_ctrl failed: ${init.stderr}`);
  const port = await freePort();
  mkdirSync(join(dir, 'data'));
  const config = [
    'per_listener_settings false',
    'set_tcp_nodelay true',
    `listener ${port} 127.0.0.1`,
    'allow_anonymous false',
    'plugin /usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so',
    `plugin_opt_config_file ${dynsec}`,
    'max_inflight_messages 0',
    'max_queued_messages 1000000',
    'max_queued_bytes 0',
    'persistence true',
    `persistence_location ${join(dir, 'data')}/`,
    ...(process.getuid?.() === 0 ? ['user root'] : []),
  ].join('\n');
  writeFileSync(join(dir, 'mosquitto.conf'), `${config}\n`);
  const child = spawn('mosquitto', ['-c', join(dir, 'mosquitto.conf')], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const open = await new Promise((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => {
        socket.end();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return { child, port, password, url: `mqtt://127.0.0.1:${port}` };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('mosquitto did not start');
}
