// Backend choice with WebGPU: Chromium started with --enable-unsafe-webgpu offers an adapter
// (SwiftShader on machines without a GPU). The page must run the parity self-check, say which
// backend runs, judge the sample on it, and let the student switch to the CPU and back.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { usePage } from './page.mjs';

const page = usePage(['--enable-unsafe-webgpu']);

test('WebGPU is chosen after the parity check, and the student can switch backends', async () => {
  await page.browser.goto(`${page.url}#/attack`);
  const status = await page.browser.regionText('status', /^running on/, 180_000);
  assert.match(status, /^running on WebGPU \(parity check passed: max \|Δ logit\| /);
  const accuracy = await page.browser.regionText('status', /^Sample accuracy/, 180_000);

  const select = await page.browser.byRole('combobox', 'Compute backend');
  await page.browser.click(select);
  const [cpu] = await page.browser.css('#backend-select option[value=cpu]');
  await page.browser.click(cpu);
  await page.browser.regionText('status', /^running on CPU \(chosen\)/, 60_000);
  // The same sample judged on the CPU gives the same verdicts.
  assert.equal(await page.browser.regionText('status', /^Sample accuracy/, 60_000), accuracy);
  assert.deepEqual(await page.browser.consoleErrors(), []);
});
