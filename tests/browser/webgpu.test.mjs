// Backend choice with WebGPU: Chromium started with --enable-unsafe-webgpu offers an adapter
// (SwiftShader on machines without a GPU). The page must run the parity self-check, say which
// backend runs, judge the sample on it, and let the student switch to the CPU and back.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Browser } from './webdriver.mjs';
import { serve } from './static-server.mjs';

const DIST = process.env.GRADLAB_DIST ?? 'dist';

let server;
let browser;

before(async () => {
  server = await serve(DIST);
  browser = await Browser.start(['--enable-unsafe-webgpu']);
});

after(async () => {
  await browser?.quit();
  server?.close();
});

test('WebGPU is chosen after the parity check, and the student can switch backends', async () => {
  await browser.goto(`${server.url}#/attack`);
  const status = await browser.regionText('status', /^running on/, 180_000);
  assert.match(status, /^running on WebGPU \(parity check passed: max \|Δ logit\| /);
  const accuracy = await browser.regionText('status', /^Sample accuracy/, 180_000);

  const select = await browser.byRole('combobox', 'Compute backend');
  await browser.click(select);
  const [cpu] = await browser.css('#backend-select option[value=cpu]');
  await browser.click(cpu);
  await browser.regionText('status', /^running on CPU \(chosen\)/, 60_000);
  // The same sample judged on the CPU gives the same verdicts.
  assert.equal(await browser.regionText('status', /^Sample accuracy/, 60_000), accuracy);
  assert.deepEqual(await browser.consoleErrors(), []);
});
