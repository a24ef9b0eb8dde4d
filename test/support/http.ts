import http from 'node:http';

export interface HttpResponse<T = unknown> {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: T;
  readonly text: string;
}

export interface HttpRequest {
  readonly port: number;
  readonly method?: string;
  readonly path: string;
  /** Sent as the Host header (the tenant's subdomain, or the base domain). */
  readonly host?: string;
  readonly headers?: Record<string, string>;
  /** JSON-encoded unless `rawBody` is given. */
  readonly body?: unknown;
  readonly rawBody?: string | Buffer;
  readonly timeoutMs?: number;
}

/** A plain HTTP/1.1 request with full control of the Host header (fetch does not allow it). */
export function httpRequest<T = any>(request: HttpRequest): Promise<HttpResponse<T>> {
  const payload =
    request.rawBody !== undefined
      ? Buffer.from(request.rawBody)
      : request.body !== undefined
        ? Buffer.from(JSON.stringify(request.body))
        : undefined;
  const headers: Record<string, string> = { ...(request.headers ?? {}) };
  if (request.host !== undefined) headers['host'] = request.host;
  if (payload) {
    headers['content-type'] ??= 'application/json';
    headers['content-length'] = String(payload.length);
  }
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: request.port,
        method: request.method ?? 'GET',
        path: request.path,
        headers,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          if ((res.headers['content-type'] ?? '').includes('json') && text.length > 0) {
            try {
              body = JSON.parse(text);
            } catch {
              body = text;
            }
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: body as T, text });
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(request.timeoutMs ?? 30_000, () =>
      req.destroy(new Error(`HTTP ${request.method ?? 'GET'} ${request.path} timed out`)),
    );
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}
