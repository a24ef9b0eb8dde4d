// A small HTTP/1.1 client for setup calls. Node's fetch cannot set the Host header, which is
// how the gateway tells tenants (and the admin API) apart, so this uses node:http.
import http from 'node:http';

/**
 * Sends one request to 127.0.0.1:`port` with `Host: host` and, when given, a bearer token, a
 * JSON body and `extraHeaders` (e.g. `{ 'idempotency-key': key }`). Resolves with `{ status, body }`
 * (body parsed when it is JSON).
 */
export function request({ port, host, method = 'GET', path, token, body, extraHeaders, timeoutMs = 60_000 }) {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const headers = { ...extraHeaders, host };
  if (token) headers.authorization = `Bearer ${token}`;
  if (payload) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(payload.length);
  }
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed = text;
        if ((res.headers['content-type'] ?? '').includes('json') && text) {
          try {
            parsed = JSON.parse(text);
          } catch {
            // keep the text
          }
        }
        resolve({ status: res.statusCode ?? 0, body: parsed, text });
      });
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

/** Like {@link request}, but throws unless the status is `expected`. */
export async function expectStatus(expected, options) {
  const response = await request(options);
  if (response.status !== expected) {
    throw new Error(
      `${options.method ?? 'GET'} ${options.path} (Host ${options.host}): expected ${expected}, got ${response.status} ${response.text.slice(0, 500)}`,
    );
  }
  return response.body;
}
