import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Injectable } from '@nestjs/common';
import { CONSOLE_STYLESHEET } from './console-stylesheet.js';

/**
 * The console's static files, read once at startup: htmx from its npm package (`htmx.org`, pinned
 * in package.json; no build step) and the stylesheet.
 */
@Injectable()
export class ConsoleAssets {
  readonly htmx: Buffer = readFileSync(createRequire(import.meta.url).resolve('htmx.org/dist/htmx.min.js'));
  readonly stylesheet: Buffer = Buffer.from(CONSOLE_STYLESHEET);
}
