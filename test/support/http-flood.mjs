// A load generator in a process of its own, so that a test measuring latency meanwhile does not
// share its event loop with the load: `node http-flood.mjs '<json>'` with
// {port, host, path, count, concurrency, localAddress, randomApiKey}; sends `count` GETs over
// `concurrency` keep-alive connections from `localAddress`, each with a fresh well-formed API key
// (`psk_` + 43 base64url characters) when `randomApiKey` is set, and prints one JSON line:
// {statuses: {<status>: n}, elapsedMs}.
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';

const { port, host, path, count, concurrency, localAddress, randomApiKey } = JSON.parse(process.argv[2]);
const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
const statuses = {};

function get() {
  const headers = { host };
  if (randomApiKey) headers.authorization = `Bearer psk_${randomBytes(32).toString('base64url')}`;
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, localAddress, agent, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    req.end();
  });
}

let sent = 0;
const started = performance.now();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (sent < count) {
      sent += 1;
      const status = await get();
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  }),
);
agent.destroy();
process.stdout.write(`${JSON.stringify({ statuses, elapsedMs: Math.round(performance.now() - started) })}\n`);
