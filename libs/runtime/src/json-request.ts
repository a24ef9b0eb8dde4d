import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface JsonRequest {
  readonly method: string;
  readonly url: URL;
  /** Host header when it differs from the URL's host (tenant and admin routes are chosen by Host). */
  readonly host?: string;
  readonly bearer?: string;
  readonly body?: unknown;
  readonly timeoutMs: number;
}

/**
 * One JSON request over node:http(s) (`fetch` cannot set Host). Resolves with the status and
 * the parsed body (`{message}` with the text when the body is not JSON); rejects only when no
 * answer came, with an error naming the server.
 */
export function jsonRequest<T>(options: JsonRequest): Promise<{ status: number; body: T }> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const send = options.url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const request = send(
      options.url,
      {
        method: options.method,
        headers: {
          ...(options.bearer ? { authorization: `Bearer ${options.bearer}` } : {}),
          ...(options.host ? { host: options.host } : {}),
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
        },
        timeout: options.timeoutMs,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            resolve({ status: response.statusCode ?? 0, body: (text ? JSON.parse(text) : undefined) as T });
          } catch {
            resolve({ status: response.statusCode ?? 0, body: { message: text.slice(0, 200) } as T });
          }
        });
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no answer from ${options.url.origin}`)));
    request.on('error', (error) => reject(new Error(`cannot reach ${options.url.origin}: ${error.message}`)));
    request.end(payload);
  });
}
