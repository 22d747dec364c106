// Adversarial training in the Attack lab: a short run loads the training images, trains,
// and compares the original and the defended model under FGSM; bad settings get a message.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Browser, ELEMENT } from './webdriver.mjs';
import { serve } from './static-server.mjs';

const DIST = process.env.GRADLAB_DIST ?? 'dist';

let server;
let browser;

before(async () => {
  server = await serve(DIST);
  browser = await Browser.start();
  await browser.goto(`${server.url}#/attack`);
  await browser.regionText('status', /^Sample accuracy/, 60_000);
});

after(async () => {
  await browser?.quit();
  server?.close();
});

test('bad settings get a message and nothing starts', async () => {
  await browser.type(await browser.byRole('spinbutton', 'Clean-loss weight α'), '1.5');
  await browser.click(await browser.byRole('button', 'Start adversarial training'));
  await browser.regionText('alert', /^α must be a number from 0 to 1/);
  await browser.type(await browser.byRole('spinbutton', 'Clean-loss weight α'), '0.5');
});

test('a short run trains and shows the original and defended models side by side', async () => {
  await browser.type(await browser.byRole('spinbutton', 'Training images'), '256');
  await browser.click(await browser.byRole('button', 'Start adversarial training'));
  const ready = await browser.regionText('status', /^Defended model ready/, 600_000);
  assert.match(ready, /256 images × 1 epochs/);

  const table = await browser.byRole('table', 'Original and defended models');
  const rows = await browser.run(`return [...arguments[0].querySelectorAll('tbody tr')]
    .map((r) => [...r.querySelectorAll('td')].map((c) => Number(c.textContent)))`,
  { [ELEMENT]: table });
  assert.equal(rows.length, 5);
  const [[cleanOriginal, cleanDefended]] = rows;
  assert.ok(cleanOriginal > 0.97 && cleanDefended > 0.9, `${cleanOriginal} ${cleanDefended}`);
  assert.ok(rows[4][0] < cleanOriginal, 'FGSM lowers the original accuracy');
  await browser.byRole('image', 'Accuracy under FGSM: original and defended');
  await browser.byRole('image', /^Adversarial training loss: \d+ points/);

  await browser.click(await browser.byRole('button', 'Use the defended model'));
  await browser.waitFor(async () => {
    const text = await browser.run(`return document.querySelector('main').innerText`);
    return /Active model: built-in \+ adversarial training/.test(text);
  }, 60_000, 'the defended model to be active');
  assert.deepEqual(await browser.consoleErrors(), []);
});
