// The Attack lab's first view, driven as a student would: read the sample grid, change the
// sample, evaluate all 10,000 test images while still using the page, cancel a run.
//
// Environment: GRADLAB_DIST (the built page), GRADLAB_EXPECTED_ACCURACY (the line printed by
// `gradlab eval` for the committed model, e.g. "accuracy 0.9921 (9921/10000)").

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ELEMENT } from './webdriver.mjs';
import { usePage } from './page.mjs';

const EXPECTED = process.env.GRADLAB_EXPECTED_ACCURACY;

// Known from the MNIST test labels (see the data README): images per digit 0..9.
const TEST_LABEL_COUNTS = '980 1135 1032 1010 982 892 958 1028 974 1009';

const page = usePage();

test('the page starts on the CPU without WebGPU and shows every control by name', async () => {
  await page.browser.goto(`${page.url}#/attack`);
  await page.browser.regionText('status', /^Sample accuracy/, 60_000);

  const status = await page.browser.regionText('status', /^running on/);
  assert.match(status, /^running on CPU \(/);
  for (const [role, name] of [
    ['combobox', 'Compute backend'],
    ['spinbutton', 'Sample size'],
    ['spinbutton', 'Seed'],
    ['button', 'Show sample'],
    ['button', 'Draw a new sample'],
    ['button', 'Evaluate all test images'],
    ['button', 'Cancel evaluation'],
    ['link', 'Fit'],
    ['link', 'Attack'],
    ['link', 'Forecast'],
  ]) {
    await page.browser.byRole(role, name);
  }
  const about = await page.browser.run(`return document.querySelector('main').innerText`);
  assert.ok(about.includes(`images per digit 0–9: ${TEST_LABEL_COUNTS}`), about);
  assert.ok(about.includes('10,000 images, mean pixel 33.791'), about);
  assert.deepEqual(await page.browser.consoleErrors(), []);
});

test('the sample grid shows each image with its prediction and the sample accuracy', async () => {
  const images = await page.browser.allByRole('image', /^Test image \d+: true digit \d, predicted \d/);
  assert.equal(images.length, 24);

  const labels = await Promise.all(images.map((id) => page.browser.name(id)));
  const correct = labels.filter((l) => {
    const [, truth, guess] = l.match(/true digit (\d), predicted (\d)/);
    return truth === guess;
  }).length;
  const accuracy = await page.browser.regionText('status', /^Sample accuracy/);
  assert.equal(accuracy.split(' (')[0], `Sample accuracy: ${correct} of 24 correct`);
  assert.ok(correct >= 22, `a 99% model gets at least 22 of 24 right: ${accuracy}`);

  await page.browser.type(await page.browser.byRole('spinbutton', 'Sample size'), '10');
  await page.browser.click(await page.browser.byRole('button', 'Show sample'));
  await page.browser.regionText('status', /^Sample accuracy: \d+ of 10 correct/);
  const shown = await page.browser.allByRole('image', /^Test image/);
  assert.equal(shown.length, 10);
});

test('a bad sample size gets a message and keeps the current sample', async () => {
  await page.browser.type(await page.browser.byRole('spinbutton', 'Sample size'), '0');
  await page.browser.click(await page.browser.byRole('button', 'Show sample'));
  const alert = await page.browser.regionText('alert', /sample size must be/);
  assert.match(alert, /from 1 to 500/);
  assert.equal((await page.browser.allByRole('image', /^Test image/)).length, 10);
  await page.browser.type(await page.browser.byRole('spinbutton', 'Sample size'), '10');
});

test('all 10,000 images are evaluated while the page still answers clicks', async () => {
  // Controls are found first: while the evaluation runs, every WebDriver command waits for the
  // page's current batch, so the test keeps its commands few.
  const seed = await page.browser.byRole('spinbutton', 'Seed');
  const redraw = await page.browser.byRole('button', 'Draw a new sample');
  const seedBefore = Number(await page.browser.property(seed, 'value'));
  const state = () => page.browser.run(`return {
    done: document.querySelector('progress')?.value,
    seed: Number(arguments[0].value) }`, { [ELEMENT]: seed });

  await page.browser.click(await page.browser.byRole('button', 'Evaluate all test images'));
  await page.browser.waitFor(async () => (await state()).done > 0, 60_000, 'progress');
  await page.browser.click(redraw);
  const during = await state();
  assert.equal(during.seed, seedBefore + 1);
  assert.ok(during.done < 10_000, `the click was answered while evaluating (${during.done} done)`);

  const line = await page.browser.regionText('status', /^accuracy \d/, 600_000);
  if (EXPECTED) assert.equal(line.trim(), EXPECTED.trim());
  assert.match(line, /^accuracy 0\.99\d\d \(99\d\d\/10000\)$/);
  const table = await page.browser.byRole('table', 'Confusion matrix');
  const cells = await page.browser.run(
    `return [...arguments[0].querySelectorAll('td')].map((c) => Number(c.textContent))`,
    { [ELEMENT]: table });
  assert.equal(cells.reduce((a, b) => a + b, 0), 10_000);
});

test('an evaluation can be cancelled', async () => {
  // As above, controls are found before the long work starts.
  const evaluate = await page.browser.byRole('button', 'Evaluate all test images');
  const cancel = await page.browser.byRole('button', 'Cancel evaluation');
  const done = () => page.browser.run(`return document.querySelector('progress')?.value ?? -1`);

  await page.browser.click(evaluate);
  await page.browser.waitFor(async () => (await done()) > 0, 60_000, 'progress');
  await page.browser.click(cancel);
  await page.browser.waitFor(async () => page.browser.run(`return [...document.querySelectorAll(
    '[role=status]')].some((e) => e.textContent.startsWith('Evaluation cancelled'))`), 60_000,
  'the cancelled message');
  assert.equal(await done(), -1, 'the progress bar is gone');
  assert.deepEqual(await page.browser.consoleErrors(), []);
});
