// The Fit lab driven as a student would: a short training run, a short sweep, a regularised
// continuation of the best model, and a bad formula that must not lose the data on show.
//
// Environment: GRADLAB_DIST (the built page).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { usePage } from './page.mjs';

const page = usePage();

/** The aria-label of the canvas with this id. */
function label(id) {
  const script = `return document.getElementById(arguments[0])?.getAttribute('aria-label')`;
  return page.browser.run(script, id);
}

/** Sets an input by id as typing would (the page listens to `input`). */
async function set(id, value) {
  const [element] = await page.browser.css(`#${id}`);
  assert.ok(element, `#${id} exists`);
  await page.browser.type(element, value);
}

/** Waits until no run is in progress (the Train button is enabled again). */
async function idle(button, timeout) {
  await page.browser.waitFor(async () => (await page.browser.property(button, 'disabled')) === false,
    timeout, 'the run to finish');
}

test('the lab shows its data and names every control', async () => {
  await page.browser.goto(`${page.url}#/fit`);
  await page.browser.byRole('image', /^Data: 150 training and 50 validation points$/, 120_000);
  for (const [role, name] of [
    ['button', 'Train'],
    ['button', 'Sweep'],
    ['button', 'Regularise'],
  ]) {
    await page.browser.byRole(role, name);
  }
  const [log] = await page.browser.css('#fit-log');
  assert.equal((await page.browser.name(log)).trim(), 'log scale');
  const text = await page.browser.run(`return document.querySelector('main').innerText`);
  assert.match(text, /faster on the CPU than through WebGPU dispatch/);
  assert.match(text, /biases are excluded/);
  assert.deepEqual(await page.browser.consoleErrors(), []);
});

test('a short training run draws one loss point per epoch and keeps a best model', async () => {
  const train = await page.browser.byRole('button', 'Train');
  await set('fit-epochs', '25');
  await page.browser.click(train);
  await idle(train, 60_000);
  assert.equal(await label('fit-loss-chart'), 'Loss per epoch: 25 epochs');
  const best = await page.browser.regionText('status', /^Best model \(from the last training run\)/);
  assert.match(best, /16 hidden units, validation loss [0-9.]+ at epoch \d+\./);
});

test('a short sweep shows one point per hidden size and a table beside it', async () => {
  const sweep = await page.browser.byRole('button', 'Sweep');
  await set('fit-sizes', '1,4,16');
  await set('fit-repeats', '1');
  await set('fit-epochs', '20');
  await page.browser.click(sweep);
  await idle(sweep, 120_000);
  assert.equal(await label('fit-sweep-chart'), 'Best validation loss per hidden size: 3 sizes');
  const rows = await page.browser.run(
    `return [...document.querySelectorAll('table[aria-label="Sweep results"] tbody tr')]
      .map((r) => r.innerText.split('\\t')[0])`);
  assert.equal(rows.length, 3);
  assert.deepEqual(rows.map((r) => parseInt(r, 10)), [1, 4, 16]);
  assert.equal(rows.filter((r) => r.includes('(best)')).length, 1);
  await page.browser.regionText('status', /^Best model \(from the last sweep\)/);
});

test('a regularised run continues the curve and shows the before/after table', async () => {
  const status = await page.browser.regionText('status', /^Best model/);
  const bestEpoch = Number(status.match(/at epoch (\d+)/)[1]);
  const regularise = await page.browser.byRole('button', 'Regularise');
  await set('fit-lambda', '0.01');
  await set('fit-more-epochs', '12');
  await page.browser.click(regularise);
  await idle(regularise, 60_000);
  // The best model's own epochs, then 12 more.
  assert.equal(await label('fit-loss-chart'), `Loss per epoch: ${bestEpoch + 12} epochs`);
  const table = await page.browser.run(`return document.getElementById('fit-comparison')?.innerText`);
  assert.ok(table, 'the comparison table is shown');
  for (const row of ['train loss', 'validation loss', 'weight norm', 'before', 'after']) {
    assert.ok(table.includes(row), `${row} in ${table}`);
  }
  await page.browser.byRole('image', 'Fitted curve before regularisation');
  await page.browser.byRole('image', 'Fitted curve after regularisation');
  assert.deepEqual(await page.browser.consoleErrors(), []);
});

test('a bad formula shows where it is wrong and keeps the previous data', async () => {
  await page.browser.run(`
    const select = document.getElementById('fit-function');
    select.value = 'formula';
    select.dispatchEvent(new Event('change', { bubbles: true }));`);
  const good = await page.browser.waitFor(async () => {
    const caption = await page.browser.run(
      `return document.querySelector('#fit-data-chart')?.closest('figure')?.innerText`);
    return caption?.startsWith('sin(2*x)*exp(-x^2/4)') ? caption : undefined;
  }, 10_000, 'the formula data');

  await set('fit-formula', 'sin(x');
  const alert = await page.browser.regionText('alert', /Formula:/);
  assert.match(alert, /this '\(' is never closed \(column 4\)/);
  assert.match(alert, /sin\(x\n {3}\^/);
  const caption = await page.browser.run(
    `return document.querySelector('#fit-data-chart').closest('figure').innerText`);
  assert.equal(caption, good, 'the plot keeps the previous data');

  await set('fit-formula', 'x^2');
  await page.browser.waitFor(async () => (await page.browser.run(
    `return document.querySelector('#fit-data-chart').closest('figure').innerText`))
    .startsWith('x^2'), 10_000, 'the corrected formula');
  assert.deepEqual(await page.browser.run(`return document.getElementById('data-error')`), null);
  assert.deepEqual(await page.browser.consoleErrors(), []);
});
