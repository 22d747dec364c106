// The Forecast lab, driven as a student would: pick AirPassengers, train briefly, read the loss
// curve, the forecast over the test span and its errors; then upload broken CSV files and see
// what is wrong with them while the loaded series stays.
//
// Environment: GRADLAB_DIST (the built page); optionally GRADLAB_FORECAST_TABLE, the output of
// `gradlab forecast --series assets/series/airpassengers.csv --log --diff 12 --scale minmax
// --lookback 12 --test 24 --hidden 32 --epochs 20`, whose table the page must reproduce.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Browser, ELEMENT } from './webdriver.mjs';
import { serve } from './static-server.mjs';

const DIST = process.env.GRADLAB_DIST ?? 'dist';
const TABLE = process.env.GRADLAB_FORECAST_TABLE;

// Errors of the naive forecasts of AirPassengers' last 24 months (1959-01..1960-12), computed
// directly from the data: one-step naive (previous month), seasonal naive (same month a year
// before), and from the forecast origin (last training value; last training year repeated).
const BASELINES = [
  ['one-step', 'naive', '51.78', '44.21', '9.730'],
  ['one-step', 'seasonal naive (12)', '49.99', '47.58', '10.52'],
  ['recursive', 'naive', '137.3', '115.2', '23.58'],
  ['recursive', 'seasonal naive (12)', '76.99', '71.25', '15.52'],
];

let server;
let browser;
let scratch;

before(async () => {
  server = await serve(DIST);
  // A device pixel ratio of 2, as on a high-DPI screen: canvases must draw at twice their size.
  browser = await Browser.start(['--force-device-scale-factor=2']);
  scratch = mkdtempSync(join(tmpdir(), 'gradlab-forecast-'));
});

after(async () => {
  await browser?.quit();
  server?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** The table's rows as arrays of cell texts. */
async function tableRows() {
  const table = await browser.byRole('table', 'Forecast errors on the test span');
  return browser.run(
    `return [...arguments[0].querySelectorAll('tbody tr')]
       .map((r) => [...r.cells].map((c) => c.textContent.trim()))`,
    { [ELEMENT]: table });
}

/** Facts about a canvas: its size in CSS and device pixels and how many pixels are not white. */
function canvasFacts(id) {
  return browser.run(`
    const c = arguments[0];
    const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let inked = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i] < 200 || data[i + 1] < 200 || data[i + 2] < 200) inked++;
    }
    return { width: c.width, cssWidth: c.clientWidth, height: c.height,
      cssHeight: c.clientHeight, inked, points: c.dataset.points };`, { [ELEMENT]: id });
}

/** The element matching `selector` whose accessible name is `name` (roles the shared client
 * does not list: check boxes, file inputs). */
async function byCssAndName(selector, name) {
  for (const id of await browser.css(selector)) {
    if ((await browser.name(id)).trim() === name) return id;
  }
  throw new Error(`no ${selector} named "${name}"`);
}

const uploadInput = () => byCssAndName('input[type=file]', 'Upload a CSV series');

test('AirPassengers is shown with its source, units and the chronological split', async () => {
  await browser.goto(`${server.url}#/forecast`);
  const chart = await browser.byRole('image',
    'AirPassengers: 144 points from 1949-01 to 1960-12, 120 for training and 24 for testing',
    60_000);
  const about = await browser.run(`return document.getElementById('fc-about').innerText`);
  assert.match(about, /144 monthly points, 1949-01 to 1960-12/);
  assert.match(about, /thousands of international airline passengers per month/);
  assert.match(about, /Box, Jenkins & Reinsel \(1976\), Series G/);

  const facts = await canvasFacts(chart);
  assert.equal(facts.points, 'training span:120;test span:25');
  assert.equal(facts.width, 2 * facts.cssWidth, 'backing store at device pixels');
  assert.equal(facts.height, 2 * facts.cssHeight);
  assert.ok(facts.inked > 1000, `the chart is drawn (${facts.inked} inked pixels)`);

  for (const [role, name] of [
    ['combobox', 'Real series'],
    ['combobox', 'Process'],
    ['button', 'Generate series'],
    ['combobox', 'Differencing'],
    ['combobox', 'Scaling'],
    ['spinbutton', 'Look-back'],
    ['spinbutton', 'Test span'],
    ['combobox', 'Cell'],
    ['spinbutton', 'Hidden units'],
    ['spinbutton', 'Epochs'],
    ['spinbutton', 'Learning rate'],
    ['button', 'Train'],
    ['button', 'Cancel training'],
  ]) {
    await browser.byRole(role, name);
  }
  await uploadInput();
  const log = await byCssAndName('input[type=checkbox]', 'Log transform');
  assert.equal(await browser.role(log), 'checkbox');
  assert.equal(await browser.property(log, 'checked'), true);
  const transform = await browser.run(`return document.getElementById('fc-transform').innerText`);
  assert.match(transform, /log, then difference at lag 12, then min-max/);
  assert.match(transform, /96 training windows and 24 test windows of 12 values/);
  await browser.byRole('image', /^Transformed AirPassengers: 132 values$/);
  assert.deepEqual(await browser.consoleErrors(), []);
});

test('brief training draws the loss curve and forecasts of the test span with their errors',
  async () => {
    await browser.type(await browser.byRole('spinbutton', 'Epochs'), '20');
    await browser.click(await browser.byRole('button', 'Train'));
    const done = await browser.regionText('status', /^Trained for 20 epochs/, 120_000);
    // Elman with 32 hidden units: 32 + 32·32 + 32 cell and 32 + 1 read-out parameters.
    assert.match(done, /Elman cell, 1121 parameters/);

    const loss = await browser.byRole('image',
      /^Loss per epoch over 20 epochs: training \S+ and test \S+/);
    const lossFacts = await canvasFacts(loss);
    assert.equal(lossFacts.points, 'training windows:20;test windows:20');
    assert.ok(lossFacts.inked > 1000);

    const forecast = await browser.byRole('image',
      'Forecasts of AirPassengers over the test span 1959-01 to 1960-12: one-step and recursive, '
      + 'over the actual series');
    const facts = await canvasFacts(forecast);
    assert.equal(facts.points, 'actual:96;one-step forecast:24;recursive forecast:24');
    assert.ok(facts.inked > 1000);

    const rows = await tableRows();
    assert.equal(rows.length, 6);
    for (const expected of BASELINES) {
      assert.ok(rows.some((r) => r.join('|') === expected.join('|')), `${expected} in ${rows}`);
    }
    const rnn = rows.filter((r) => r[1] === 'RNN');
    assert.deepEqual(rnn.map((r) => r[0]), ['one-step', 'recursive']);
    for (const row of rnn) {
      for (const cell of row.slice(2)) assert.match(cell, /^\d+(\.\d+)?$/, `${row}`);
    }
    if (TABLE) {
      // The command line's table, same settings and seed: the RNN rows must agree.
      const cli = readFileSync(TABLE, 'utf8').split('\n')
        .filter((l) => /^(one-step|recursive) +RNN /.test(l))
        .map((l) => l.trim().split(/\s+/));
      assert.deepEqual(rnn, cli);
    }
    assert.deepEqual(await browser.consoleErrors(), []);
  });

test('a broken CSV gets a message naming the problem and the series stays loaded', async () => {
  const input = await uploadInput();
  const lines = ['month,value'];
  for (let i = 0; i < 20; i++) lines.push(`2001-${String(i % 12 + 1).padStart(2, '0')},${100 + i}`);
  // Line 4 (the third data row) holds a word instead of a number.
  const broken = [...lines];
  broken[3] = '2001-03,lots';
  const path = join(scratch, 'broken.csv');
  writeFileSync(path, broken.join('\n'));
  await browser.cmd('POST', `/element/${input}/value`, { text: path });
  const message = await browser.regionText('alert', /broken\.csv/);
  assert.match(message, /line 4: the value 'lots' is not a number/);
  assert.match(message, /AirPassengers is still loaded/);

  // The student's series, settings and results are untouched.
  await browser.byRole('image', /^AirPassengers: 144 points/);
  await browser.byRole('table', 'Forecast errors on the test span');

  // A file with a missing month and one with NaN get their own messages.
  const gap = lines.slice(0, 6).concat(lines.slice(7));
  writeFileSync(join(scratch, 'gap.csv'), gap.join('\n'));
  await browser.cmd('POST', `/element/${await uploadInput()}/value`,
    { text: join(scratch, 'gap.csv') });
  assert.match(await browser.regionText('alert', /gap\.csv/),
    /line 7: 1 point\(s\) missing between 2001-05 and 2001-07/);
  writeFileSync(join(scratch, 'one-column.csv'), 'value\n1\n2\n');
  await browser.cmd('POST', `/element/${await uploadInput()}/value`,
    { text: join(scratch, 'one-column.csv') });
  assert.match(await browser.regionText('alert', /one-column\.csv/),
    /a time column and a value column/);
  await browser.byRole('image', /^AirPassengers: 144 points/);
  assert.deepEqual(await browser.consoleErrors(), []);
});

test('training can be cancelled, and a diverging run stops with a message', async () => {
  const epochs = await browser.byRole('spinbutton', 'Epochs');
  const rate = await browser.byRole('spinbutton', 'Learning rate');
  const train = await browser.byRole('button', 'Train');
  const cancel = await browser.byRole('button', 'Cancel training');
  await browser.type(epochs, '3000');
  await browser.click(train);
  const progress = await browser.byRole('progressbar', 'Training progress');
  await browser.waitFor(async () => Number(await browser.property(progress, 'value')) > 2,
    60_000, 'a few epochs');
  await browser.click(cancel);
  await browser.regionText('status', /^Training cancelled; the model so far is kept/, 60_000);
  await browser.byRole('table', 'Forecast errors on the test span');

  // A learning rate of 1e30 sends the weights, and the loss, to infinity in the first epoch.
  await browser.type(epochs, '5');
  await browser.type(rate, '1e30');
  await browser.click(train);
  const alert = await browser.regionText('alert', /^Training diverged/, 60_000);
  assert.match(alert,
    /^Training diverged at epoch 1 \(loss (inf|NaN)\); the initial model is kept/);
  await browser.type(rate, '0.01');
  assert.deepEqual(await browser.consoleErrors(), []);
});

test('a simulated series is generated from its parameters; an explosive AR(2) is refused',
  async () => {
    await browser.click(await browser.byRole('button', 'Generate series'));
    await browser.byRole('image',
      /^sine \(period 20, amplitude 1\) \+ noise 0\.1: 200 points from 1 to 200, 176 for training/);
    const about = await browser.run(`return document.getElementById('fc-about').innerText`);
    assert.match(about, /simulated, seed 1/);

    const process = await browser.byRole('combobox', 'Process');
    await browser.run(`arguments[0].value = 'ar2';
      arguments[0].dispatchEvent(new Event('change', { bubbles: true }));`, { [ELEMENT]: process });
    await browser.type(await browser.byRole('spinbutton', 'phi1'), '0.9');
    await browser.type(await browser.byRole('spinbutton', 'phi2'), '0.2');
    await browser.click(await browser.byRole('button', 'Generate series'));
    assert.match(await browser.regionText('alert', /not stationary/), /still loaded/);
    await browser.byRole('image', /^sine \(period 20/);
  });

test('a good CSV replaces the series', async () => {
  const rows = ['quarter,value'];
  for (let i = 0; i < 40; i++) {
    rows.push(`${1990 + Math.floor(i / 4)}-Q${i % 4 + 1},${10 + (i % 4)}`);
  }
  writeFileSync(join(scratch, 'quarters.csv'), rows.join('\n'));
  await browser.cmd('POST', `/element/${await uploadInput()}/value`,
    { text: join(scratch, 'quarters.csv') });
  await browser.byRole('image', /^quarters\.csv: 40 points from 1990-Q1 to 1999-Q4/);
  assert.deepEqual(await browser.allByRole('table', 'Forecast errors on the test span'), []);
});
