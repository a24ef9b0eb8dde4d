import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** Statuses whose answer has no body (`new Response` refuses one). */
const NO_BODY = new Set([101, 204, 205, 304]);

/**
 * A `fetch` that sends every request with `Host: host`, through `node:http(s)` (the WHATWG fetch
 * does not let a caller set Host). For a gateway whose tenant hosts (`<slug>.<BASE_DOMAIN>`)
 * DNS does not resolve, as on a developer's machine: the request goes to the URL's address, the
 * gateway reads the tenant from Host. The whole answer is read before it resolves.
 */
export function fetchWithHost(host: string): (request: Request) => Promise<Response> {
  return async (request) => {
    const url = new URL(request.url);
    const body = request.body ? Buffer.from(await request.arrayBuffer()) : undefined;
    const headers: Record<string, string> = Object.fromEntries(request.headers.entries());
    headers['host'] = host;
    if (body) headers['content-length'] = String(body.length);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const answer = await new Promise<IncomingMessage>((resolve, reject) => {
      const outgoing = send(url, { method: request.method, headers, servername: host.split(':')[0] }, resolve);
      outgoing.on('error', reject);
      outgoing.end(body);
    });
    const chunks: Buffer[] = [];
    for await (const chunk of answer) chunks.push(chunk as Buffer);
    const responseHeaders = new Headers();
    for (const [name, value] of Object.entries(answer.headers)) {
      for (const one of Array.isArray(value) ? value : value === undefined ? [] : [value])
        responseHeaders.append(name, one);
    }
    const status = answer.statusCode ?? 502;
    return new Response(NO_BODY.has(status) ? null : Buffer.concat(chunks), { status, headers: responseHeaders });
  };
}
