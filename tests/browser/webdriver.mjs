// A small W3C WebDriver client for the browser tests: it starts chromedriver on 127.0.0.1,
// opens headless Chromium, and finds elements the way people do, by role and accessible name
// (chromedriver's computed role and label).

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';

/** The W3C key of an element reference. */
export const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

/** CSS candidates for each ARIA role the tests look for. */
const CANDIDATES = {
  button: 'button, [role=button], input[type=submit], input[type=button]',
  spinbutton: 'input[type=number]',
  textbox: 'input[type=text], input:not([type]), textarea',
  slider: 'input[type=range], [role=slider]',
  combobox: 'select',
  link: 'a[href]',
  image: 'canvas[role=img], img, [role=img], [role=image]',
  status: '[role=status]',
  alert: '[role=alert]',
  progressbar: 'progress, [role=progressbar]',
  table: 'table',
  list: '[role=list], ul, ol',
  heading: 'h1, h2, h3',
  navigation: 'nav',
};

/** A free TCP port on 127.0.0.1. */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class Browser {
  /** Starts chromedriver and a fresh headless Chromium; `extraArgs` are added Chromium flags. */
  static async start(extraArgs = []) {
    const port = await freePort();
    const driver = spawn(process.env.CHROMEDRIVER ?? '/usr/bin/chromedriver', [`--port=${port}`], {
      stdio: 'ignore',
    });
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      try {
        const status = await fetch(`${base}/status`).then((r) => r.json());
        if (status.value?.ready) break;
      } catch {
        // not listening yet
      }
      if (i > 100) throw new Error('chromedriver did not start');
      await sleep(100);
    }
    const profile = mkdtempSync(join(tmpdir(), 'gradlab-chromium-'));
    const args = [
      '--headless=new', '--no-sandbox', '--disable-dev-shm-usage', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-quic', '--window-size=1280,1000', `--user-data-dir=${profile}`, ...extraArgs,
    ];
    const browser = new Browser(driver, base, profile);
    const session = await browser.send('POST', '/session', {
      capabilities: {
        alwaysMatch: {
          browserName: 'chrome',
          'goog:chromeOptions': { binary: process.env.CHROMIUM ?? '/usr/bin/chromium', args },
          'goog:loggingPrefs': { browser: 'ALL' },
        },
      },
    });
    browser.session = session.sessionId;
    return browser;
  }

  constructor(driver, base, profile) {
    this.driver = driver;
    this.base = base;
    this.profile = profile;
  }

  async send(method, path, body) {
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await response.json();
    if (!response.ok) throw new Error(`${method} ${path}: ${json.value?.message ?? response.status}`);
    return json.value;
  }

  cmd(method, path, body) {
    return this.send(method, `/session/${this.session}${path}`, body);
  }

  goto(url) {
    return this.cmd('POST', '/url', { url });
  }

  /** Runs `script` (a function body) in the page and returns its value. */
  run(script, ...args) {
    return this.cmd('POST', '/execute/sync', { script, args });
  }

  async css(selector) {
    const found = await this.cmd('POST', '/elements', { using: 'css selector', value: selector });
    return found.map((e) => e[ELEMENT]);
  }

  role(id) {
    return this.cmd('GET', `/element/${id}/computedrole`);
  }

  name(id) {
    return this.cmd('GET', `/element/${id}/computedlabel`);
  }

  text(id) {
    return this.cmd('GET', `/element/${id}/text`);
  }

  property(id, name) {
    return this.cmd('GET', `/element/${id}/property/${name}`);
  }

  click(id) {
    return this.cmd('POST', `/element/${id}/click`, {});
  }

  async type(id, text) {
    await this.cmd('POST', `/element/${id}/clear`, {});
    await this.cmd('POST', `/element/${id}/value`, { text });
  }

  /** Every element with ARIA `role` whose accessible name matches `name` (string or RegExp). */
  async allByRole(role, name) {
    const matches = [];
    for (const id of await this.css(CANDIDATES[role] ?? `[role=${role}]`)) {
      if ((await this.role(id)) !== role) continue;
      const label = await this.name(id);
      const ok = name === undefined
        || (name instanceof RegExp ? name.test(label) : label.trim() === name);
      if (ok) matches.push(id);
    }
    return matches;
  }

  /** The one element with `role` and `name`, waiting for it up to `timeout` ms. */
  async byRole(role, name, timeout = 10_000) {
    return this.waitFor(async () => (await this.allByRole(role, name))[0], timeout,
      `${role} named ${name}`);
  }

  /** Text of the first live region (`status` or `alert`) whose text matches `pattern`. */
  async regionText(role, pattern, timeout = 10_000) {
    return this.waitFor(async () => {
      for (const id of await this.css(CANDIDATES[role])) {
        const text = await this.text(id).catch(() => '');
        if (pattern.test(text)) return text;
      }
      return undefined;
    }, timeout, `${role} matching ${pattern}`);
  }

  /** Polls `probe` until it returns a value other than undefined/false. */
  async waitFor(probe, timeout, what = 'condition') {
    const end = Date.now() + timeout;
    for (;;) {
      let value;
      try {
        value = await probe();
      } catch (error) {
        if (!/stale element/.test(String(error))) throw error;
      }
      if (value !== undefined && value !== false) return value;
      if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
      await sleep(100);
    }
  }

  /** Console messages of level SEVERE (errors) since the last call. */
  async consoleErrors() {
    const entries = await this.cmd('POST', '/se/log', { type: 'browser' });
    return entries.filter((e) => e.level === 'SEVERE').map((e) => e.message);
  }

  /** Drags the mouse through `points` ([x, y] offsets from the element's centre, CSS px). */
  async drag(id, points) {
    const origin = { [ELEMENT]: id };
    const [first, ...rest] = points;
    const actions = [
      { type: 'pointerMove', duration: 0, origin, x: first[0], y: first[1] },
      { type: 'pointerDown', button: 0 },
      ...rest.map(([x, y]) => ({ type: 'pointerMove', duration: 20, origin, x, y })),
      { type: 'pointerUp', button: 0 },
    ];
    await this.cmd('POST', '/actions', {
      actions: [{ type: 'pointer', id: 'mouse', parameters: { pointerType: 'mouse' }, actions }],
    });
    await this.cmd('DELETE', '/actions');
  }

  async screenshot() {
    return Buffer.from(await this.cmd('GET', '/screenshot'), 'base64');
  }

  async quit() {
    try {
      await this.send('DELETE', `/session/${this.session}`);
    } finally {
      this.driver.kill();
      rmSync(this.profile, { recursive: true, force: true });
    }
  }
}
