// The Attack lab's drawing and FGSM view, as a student uses it: draw a digit, read the
// prediction, slide epsilon until the prediction changes, switch to the targeted form.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ELEMENT } from './webdriver.mjs';
import { usePage } from './page.mjs';

const page = usePage([], async ({ browser, url }) => {
  await browser.goto(`${url}#/attack`);
  await browser.regionText('status', /^Draw a digit/, 60_000);
});

/** Sets the epsilon slider as a keyboard or mouse would, firing its input event. */
async function slide(slider, epsilon) {
  await page.browser.run(`const s = arguments[0]; s.value = arguments[1];
    s.dispatchEvent(new Event('input', { bubbles: true }));`, { [ELEMENT]: slider }, epsilon);
}

test('a drawn vertical bar is predicted as 1, and undo empties the drawing', async () => {
  const pad = await page.browser.byRole('image', /^Drawing area/);
  await page.browser.drag(pad, [[0, -90], [0, -40], [0, 0], [0, 40], [0, 90]]);
  const prediction = await page.browser.regionText('status', /^Prediction: \d/);
  assert.match(prediction, /^Prediction: 1 \(/);
  await page.browser.byRole('list', 'Class probabilities');

  await page.browser.click(await page.browser.byRole('button', 'Undo stroke'));
  await page.browser.regionText('status', /^Draw a digit/);
});

test('sliding epsilon far enough flips the prediction of a drawing', async () => {
  const pad = await page.browser.byRole('image', /^Drawing area/);
  await page.browser.drag(pad, [[0, -90], [0, 0], [0, 90]]);
  await page.browser.regionText('status', /^Prediction: 1 /);
  const flip = await page.browser.regionText('status', /^The prediction flips at ε = /, 60_000);
  const at = Number(flip.match(/ε = (\d+\.\d+)/)[1]);

  const slider = await page.browser.byRole('slider', 'Epsilon');
  await slide(slider, '0');
  await page.browser.regionText('status', /^ε = 0: the image is unchanged/);
  await slide(slider, String(at));
  const verdict = await page.browser.regionText('status', /^At ε = /);
  assert.match(verdict, /the attack succeeded$/);
  assert.doesNotMatch(verdict, /predicted 1 /);

  await page.browser.click(await page.browser.byRole('button', 'Find the smallest flipping ε (FGSM)'));
  await page.browser.regionText('status', /^Smallest ε that succeeds \(FGSM, untargeted\): \d\.\d{3}$/,
    60_000);
  await page.browser.click(await page.browser.byRole('button', 'Find the smallest flipping ε (iterative)'));
  await page.browser.regionText('status',
    /^(Smallest ε that succeeds \(10-step iterative attack, untargeted\): \d\.\d{3}|The 10-step)/,
    120_000);
  await page.browser.click(await page.browser.byRole('button', 'Run the iterative attack at this ε'));
  await page.browser.regionText('status', /^Iterative attack \(10 steps of 0\.02, ε = \d\.\d{3}\): predicted \d/,
    60_000);
});

test('the targeted form names its target and refuses the current prediction', async () => {
  const forms = await page.browser.byRole('combobox', 'Attack form');
  await page.browser.click(forms);
  await page.browser.click((await page.browser.css('option[value=targeted]'))[0]);
  const target = await page.browser.byRole('combobox', 'Target digit');
  await page.browser.click(target);
  await page.browser.click((await page.browser.css('option[value="1"]'))[0]);
  await page.browser.regionText('status', /already predicts 1: choose another target/, 60_000);

  await page.browser.click(target);
  await page.browser.click((await page.browser.css('option[value="7"]'))[0]);
  const flip = await page.browser.regionText('status', /^(The prediction flips|No flip)/, 60_000);
  assert.ok(flip.length > 0);
  assert.deepEqual(await page.browser.consoleErrors(), []);
});

test('clearing the drawing asks for a digit instead of predicting', async () => {
  await page.browser.click(await page.browser.byRole('button', 'Clear drawing'));
  await page.browser.regionText('status', /^Draw a digit/);
});

test('accuracy against epsilon: one curve per attack, falling with epsilon', async () => {
  const grid = await page.browser.byRole('textbox', 'Epsilons (comma-separated)');
  await page.browser.type(grid, '0, 0.3');
  await page.browser.click(await page.browser.byRole('button', 'Measure accuracy against epsilon'));
  const chart = await page.browser.byRole('image', /^Accuracy against epsilon on 500 images: 2 points/,
    300_000);
  assert.ok(chart);
  const table = await page.browser.byRole('table', 'Accuracy against epsilon');
  const rows = await page.browser.run(`return [...arguments[0].querySelectorAll('tbody tr')]
    .map((r) => [...r.children].map((c) => Number(c.textContent)))`, { [ELEMENT]: table });
  assert.equal(rows.length, 2);
  const [[, clean, cleanTargeted], [, untargeted, targeted]] = rows;
  assert.equal(clean, cleanTargeted, 'ε = 0 is the clean accuracy for both forms');
  assert.ok(clean > 0.97, `clean accuracy ${clean}`);
  assert.ok(untargeted < clean - 0.2 && targeted < clean, `${untargeted} ${targeted}`);

  await page.browser.click(await page.browser.byRole('button', 'Show flipped images'));
  const pairs = await page.browser.waitFor(async () => {
    const found = await page.browser.allByRole('image', /^Image \d+ attacked: predicted \d/);
    return found.length > 0 ? found : undefined;
  }, 60_000, 'flipped images');
  assert.ok(pairs.length > 0);
});

test('a bad epsilon grid gets a message', async () => {
  await page.browser.type(await page.browser.byRole('textbox', 'Epsilons (comma-separated)'), '0, big');
  await page.browser.click(await page.browser.byRole('button', 'Measure accuracy against epsilon'));
  await page.browser.regionText('alert', /'big' is not an epsilon between 0 and 1/);
  assert.deepEqual(await page.browser.consoleErrors(), []);
});
