// The shared setup of a browser test file: serve the built page on 127.0.0.1 and open a fresh
// headless Chromium on it before the file's tests, close both after them.

import { after, before } from 'node:test';
import { Browser } from './webdriver.mjs';
import { serve } from './static-server.mjs';

/** The built page (`trunk build --dist …`). */
export const DIST = process.env.GRADLAB_DIST ?? 'dist';

/**
 * Registers the setup; returns an object whose `browser` and `url` are filled in before the
 * first test. `extraArgs` are added Chromium flags; `ready(page)`, if given, runs once the
 * browser is open (to load a lab, say) and still before the first test.
 */
export function usePage(extraArgs = [], ready = undefined) {
  const page = { browser: undefined, url: undefined, server: undefined };
  before(async () => {
    page.server = await serve(DIST);
    page.url = page.server.url;
    page.browser = await Browser.start(extraArgs);
    await ready?.(page);
  });
  after(async () => {
    await page.browser?.quit();
    page.server?.close();
  });
  return page;
}
