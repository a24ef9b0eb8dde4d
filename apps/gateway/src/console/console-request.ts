import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ConsoleSession } from './console-session.util.js';
import type { SafeHtml } from './html.util.js';

/** A console request; `consoleSession` is set by `ConsoleSessionGuard` once the cookie verified. */
export interface ConsoleRequest extends FastifyRequest {
  consoleSession?: ConsoleSession;
}

/** Whether htmx sent the request (it then swaps the answer into the page, or follows `HX-Redirect`). */
export function isHtmx(request: FastifyRequest): boolean {
  return request.headers['hx-request'] === 'true';
}

/** Answers with an HTML page or fragment. */
export function sendHtml(reply: FastifyReply, status: number, body: SafeHtml): void {
  void reply.status(status).type('text/html; charset=utf-8').send(body.value);
}

/** `303 See Other` to `location` (a console path built here, never taken from the request). */
export function seeOther(reply: FastifyReply, location: string): void {
  void reply.status(303).header('location', location).send();
}
