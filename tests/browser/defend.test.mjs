// Adversarial training in the Attack lab: a short run loads the training images, trains,
// and compares the original and the defended model under FGSM; bad settings get a message.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ELEMENT } from './webdriver.mjs';
import { usePage } from './page.mjs';

const page = usePage([], async ({ browser, url }) => {
  await browser.goto(`${url}#/attack`);
  await browser.regionText('status', /^Sample accuracy/, 60_000);
});

test('bad settings get a message and nothing starts', async () => {
  await page.browser.type(await page.browser.byRole('spinbutton', 'Clean-loss weight α'), '1.5');
  await page.browser.click(await page.browser.byRole('button', 'Start adversarial training'));
  await page.browser.regionText('alert', /^α must be a number from 0 to 1/);
  await page.browser.type(await page.browser.byRole('spinbutton', 'Clean-loss weight α'), '0.5');
});

test('a short run trains and shows the original and defended models side by side', async () => {
  await page.browser.type(await page.browser.byRole('spinbutton', 'Training images'), '256');
  await page.browser.click(await page.browser.byRole('button', 'Start adversarial training'));
  const ready = await page.browser.regionText('status', /^Defended model ready/, 600_000);
  assert.match(ready, /256 images × 1 epochs/);

  const table = await page.browser.byRole('table', 'Original and defended models');
  const rows = await page.browser.run(`return [...arguments[0].querySelectorAll('tbody tr')]
    .map((r) => [...r.querySelectorAll('td')].map((c) => Number(c.textContent)))`,
  { [ELEMENT]: table });
  assert.equal(rows.length, 5);
  const [[cleanOriginal, cleanDefended]] = rows;
  assert.ok(cleanOriginal > 0.97 && cleanDefended > 0.9, `${cleanOriginal} ${cleanDefended}`);
  assert.ok(rows[4][0] < cleanOriginal, 'FGSM lowers the original accuracy');
  await page.browser.byRole('image', 'Accuracy under FGSM: original and defended');
  await page.browser.byRole('image', /^Adversarial training loss: \d+ points/);

  await page.browser.click(await page.browser.byRole('button', 'Use the defended model'));
  await page.browser.waitFor(async () => {
    const text = await page.browser.run(`return document.querySelector('main').innerText`);
    return /Active model: built-in \+ adversarial training/.test(text);
  }, 60_000, 'the defended model to be active');
  assert.deepEqual(await page.browser.consoleErrors(), []);
});
