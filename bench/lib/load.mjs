// The load generator: autocannon, in this process, one request shape per scenario.
import autocannon from 'autocannon';

/** The autocannon instance currently running (so Ctrl-C can stop it). */
let current = null;

/** Stops the running load, if any (its promise then resolves with what was measured). */
export function stopLoad() {
  current?.stop();
}

/**
 * Each request picks one of `targets` uniformly at random: `{ host, path, token? }`. The Host
 * header is what makes the gateway see a different tenant on the same socket.
 */
function randomTargetRequest(targets) {
  const prepared = targets.map((t) => ({
    path: t.path,
    headers: t.token ? { host: t.host, authorization: `Bearer ${t.token}` } : { host: t.host },
  }));
  return {
    method: 'GET',
    setupRequest(req) {
      const target = prepared[Math.floor(Math.random() * prepared.length)];
      req.path = target.path;
      req.headers = target.headers;
      return req;
    },
  };
}

/** Runs `connections` keep-alive connections against 127.0.0.1:`port` for `durationS` seconds. */
export function runLoad({ port, targets, connections, durationS }) {
  return new Promise((resolve, reject) => {
    current = autocannon(
      {
        url: `http://127.0.0.1:${port}`,
        connections,
        duration: durationS,
        pipelining: 1,
        timeout: 10,
        requests: [randomTargetRequest(targets)],
      },
      (error, result) => {
        current = null;
        if (error) reject(error);
        else resolve(summarize(result));
      },
    );
  });
}

/** The numbers a scenario reports, from autocannon's result. */
function summarize(result) {
  const completed = result.requests.total;
  return {
    durationS: result.duration,
    requests: completed,
    /** Every answer, successful or not. */
    requestsPerSecond: Math.round((completed / result.duration) * 10) / 10,
    okPerSecond: Math.round((result['2xx'] / result.duration) * 10) / 10,
    latencyMs: {
      mean: result.latency.average,
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
    },
    ok2xx: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, s]) => [code, s.count])),
  };
}
