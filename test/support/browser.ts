import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

/**
 * The system Chromium driven headless by playwright-core (which downloads no browser): the
 * console's browser tests. `CHROMIUM_PATH` names the binary, else /usr/bin/chromium (Debian's
 * `chromium` package, which .ci/run installs when it is missing).
 */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Whether a Chromium binary is there to drive. */
export const chromiumAvailable = existsSync(chromiumPath);

const INSTALL_HINT = `install it with \`apt-get install chromium\` (Debian; .ci/run does it) or set CHROMIUM_PATH to a Chromium or Chrome binary`;

/**
 * `describe` when Chromium is installed. Without it: under `CI=true` a suite whose one test fails
 * saying how to install it (CI must not go green without the browser tests); elsewhere
 * `describe.skip`, with a line straight to stderr (Jest drops the console output of a file whose
 * tests were all skipped when it runs several files, and this line must show in a full run).
 */
export function describeWithChromium(
  describe: typeof import('@jest/globals').describe,
  it: typeof import('@jest/globals').it,
): (name: string, suite: () => void) => void {
  if (chromiumAvailable) return describe;
  const message = `console browser tests: no Chromium at ${chromiumPath}; ${INSTALL_HINT}`;
  if (process.env.CI === 'true')
    return (name) =>
      describe(name, () => {
        it('needs Chromium', () => {
          throw new Error(message);
        });
      });
  process.stderr.write(`${message}: SKIPPED\n`);
  return describe.skip;
}

/** The viewport every page and screenshot uses, so the screenshots are stable. */
export const VIEWPORT = { width: 1280, height: 800 } as const;

/** Where the screenshots go (the README and docs/console.md show them). */
export const SCREENSHOT_DIR = fileURLToPath(new URL('../../docs/console/', import.meta.url));

/** A headless Chromium with one page; `close()` ends both. */
export class TestBrowser {
  private constructor(
    private readonly browser: Browser,
    readonly page: Page,
  ) {}

  static async launch(): Promise<TestBrowser> {
    if (!chromiumAvailable) throw new Error(`no Chromium at ${chromiumPath}; ${INSTALL_HINT}`);
    // Chromium refuses to start its sandbox as root (containers, CI): only then without it.
    const asRoot = process.getuid?.() === 0;
    const browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      args: asRoot ? ['--no-sandbox'] : [],
    });
    try {
      const context = await browser.newContext({ viewport: VIEWPORT, deviceScaleFactor: 1, locale: 'en-US' });
      return new TestBrowser(browser, await context.newPage());
    } catch (error) {
      await browser.close();
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.browser.close();
  }
}

/** Writes the page as it is (the viewport) to `docs/console/<name>.png`; returns the path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  if (!/^[a-z0-9-]+$/.test(name)) throw new Error(`screenshot name must be [a-z0-9-]+ (got "${name}")`);
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = `${SCREENSHOT_DIR}${name}.png`;
  await page.setViewportSize(VIEWPORT);
  await page.screenshot({ path, fullPage: false, animations: 'disabled', caret: 'hide' });
  return path;
}
