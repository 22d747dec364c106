// The Attack lab's model panel, driven as a student would: upload the two real Flux/BSON.jl
// models, read what each holds and how well it does, choose its orientation and input domain,
// make it the active model and return to the built-in one, download the active model and upload
// that file again, and see clear messages for files that are not models.
//
// Environment: GRADLAB_DIST (the built page). The Flux files are read from ../shared/data/flux
// beside the repository.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Browser, ELEMENT } from './webdriver.mjs';
import { serve } from './static-server.mjs';

const DIST = process.env.GRADLAB_DIST ?? 'dist';
const FLUX_DIR = fileURLToPath(new URL('../../../shared/data/flux/', import.meta.url));
const UPLOAD_LABEL = 'Upload a model (Flux .bson or gradlab file)';
const MEASURED = new RegExp('^Measured on the first (\\d+) test images: '
  + 'accuracy (\\d\\.\\d{4}) \\((\\d+)/(\\d+)\\) '
  + 'with orientation (rows|columns), input domain (\\[0, 1\\]|\\[-1, 1\\])\\.$');

// The architecture as the data README states it, in Julia's shapes: conv (k1, k2, in, out) with
// a bias per output channel, dense (out, in) with a bias per output.
const CONV_SHAPES = [[3, 3, 1, 16], [3, 3, 16, 32], [3, 3, 32, 32]];
const DENSE_SHAPE = [10, 288];
const NUM_PARAMS = CONV_SHAPES.reduce((n, s) => n + s.reduce((a, b) => a * b) + s[3], 0)
  + DENSE_SHAPE[0] * DENSE_SHAPE[1] + DENSE_SHAPE[0];
// The test accuracy each file's author recorded (key `acc`), from the data README.
const RECORDED_ACC = { 'params_only_conv.bson': '0.9874', 'tracker_era_conv.bson': '0.9916' };

let server;
let browser;
let scratch;

before(async () => {
  server = await serve(DIST);
  browser = await Browser.start();
  scratch = mkdtempSync(join(tmpdir(), 'gradlab-model-test-'));
  await browser.goto(`${server.url}#/attack`);
  await activeModel(/^built-in$/, 60_000);
});

after(async () => {
  await browser?.quit();
  server?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** Top-level numbers of a BSON document (doubles, int32, int64), by key: what a file records. */
function bsonNumbers(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const numbers = {};
  let pos = 4;
  while (pos < view.getInt32(0, true) - 1) {
    const type = bytes[pos++];
    const end = bytes.indexOf(0, pos);
    const key = bytes.subarray(pos, end).toString('latin1');
    pos = end + 1;
    switch (type) {
      case 0x01: numbers[key] = view.getFloat64(pos, true); pos += 8; break;
      case 0x10: numbers[key] = view.getInt32(pos, true); pos += 4; break;
      case 0x12: numbers[key] = Number(view.getBigInt64(pos, true)); pos += 8; break;
      case 0x02: pos += 4 + view.getInt32(pos, true); break;
      case 0x03: case 0x04: pos += view.getInt32(pos, true); break;
      case 0x05: pos += 5 + view.getInt32(pos, true); break;
      case 0x08: pos += 1; break;
      case 0x0a: break;
      default: throw new Error(`BSON type ${type} at the top level`);
    }
  }
  return numbers;
}

/** Encodes a BSON document: numbers as doubles, BigInts as int64, Buffers as binary. */
function bson(doc) {
  const parts = [];
  for (const [key, value] of Object.entries(doc)) {
    const name = Buffer.from(`${key}\0`, 'latin1');
    let type;
    let body;
    if (typeof value === 'number') {
      type = 0x01;
      body = Buffer.alloc(8);
      body.writeDoubleLE(value);
    } else if (typeof value === 'bigint') {
      type = 0x12;
      body = Buffer.alloc(8);
      body.writeBigInt64LE(value);
    } else if (typeof value === 'string') {
      type = 0x02;
      const text = Buffer.from(`${value}\0`, 'utf8');
      body = Buffer.concat([Buffer.alloc(4), text]);
      body.writeInt32LE(text.length);
    } else if (Buffer.isBuffer(value)) {
      type = 0x05;
      body = Buffer.concat([Buffer.alloc(5), value]);
      body.writeInt32LE(value.length);
    } else if (Array.isArray(value)) {
      type = 0x04;
      body = bson(Object.fromEntries(value.map((v, i) => [String(i), v])));
    } else {
      type = 0x03;
      body = bson(value);
    }
    parts.push(Buffer.from([type]), name, body);
  }
  const content = Buffer.concat([...parts, Buffer.from([0])]);
  const length = Buffer.alloc(4);
  length.writeInt32LE(content.length + 4);
  return Buffer.concat([length, content]);
}

/** A BSON.jl Float32 array of Julia shape `size`, all zeros. */
function juliaZeros(size) {
  return {
    tag: 'array',
    type: { tag: 'datatype', name: ['Core', 'Float32'], params: [] },
    size: size.map(BigInt),
    data: Buffer.alloc(4 * size.reduce((a, b) => a * b)),
  };
}

/** The model named on the Attack lab's "Active model:" line, once it matches `name`. */
function activeModel(name, timeout = 60_000) {
  return browser.waitFor(async () => {
    const text = await browser.run(`return document.querySelector('main')?.innerText ?? ''`);
    const found = text.match(/Active model: (.+?) \([\d,]+ parameters\)/)?.[1];
    return found !== undefined && name.test(found) ? found : undefined;
  }, timeout, `the active model to be ${name}`);
}

/** The file input, found by its visible label, once it accepts a file. */
async function uploadInput() {
  return browser.waitFor(async () => {
    for (const id of await browser.css('input[type=file]')) {
      if ((await browser.name(id)).trim() !== UPLOAD_LABEL) continue;
      if (!(await browser.property(id, 'disabled'))) return id;
    }
    return undefined;
  }, 60_000, `an enabled file input named ${UPLOAD_LABEL}`);
}

async function upload(path) {
  const input = await uploadInput();
  await browser.cmd('POST', `/element/${input}/value`, { text: path });
}

/** The measured line of the uploaded model, parsed, once it names `file`. */
async function measured(file, timeout = 180_000) {
  await browser.waitFor(async () => {
    const heading = await browser.run(
      `return document.querySelector('.model-upload h3')?.textContent ?? ''`);
    return heading === `Uploaded: ${file}`;
  }, timeout, `the summary of ${file}`);
  const line = await browser.regionText('status', /^Measured on the first/, timeout);
  const [, sample, accuracy, correct, total, orientation, domain] = line.match(MEASURED) ?? [];
  assert.ok(sample, `the measured line reads: ${line}`);
  return { sample: Number(sample), accuracy: Number(accuracy), correct: Number(correct),
    total: Number(total), orientation, domain, line };
}

/** The radio button whose label is `label` in the fieldset whose legend starts with `legend`. */
async function radio(legend, label) {
  const ids = await browser.css('.model-options fieldset');
  for (const id of ids) {
    const found = await browser.run(`
      const [set, legend, label] = arguments;
      if (!set.querySelector('legend').textContent.startsWith(legend)) return null;
      return [...set.querySelectorAll('input[type=radio]')]
        .find((r) => r.labels[0].textContent.trim() === label) ?? null;`,
    { [ELEMENT]: id }, legend, label);
    if (found) return found[ELEMENT];
  }
  throw new Error(`no radio ${label} under ${legend}`);
}

async function checked(legend, label) {
  return browser.property(await radio(legend, label), 'checked');
}

/** Summary rows of the suggestion table: orientation, domain, accuracy, note. */
async function suggestionRows() {
  const table = await browser.byRole('table',
    'Accuracy on the first 500 test images under each orientation and input domain');
  return browser.run(`return [...arguments[0].querySelectorAll('tbody tr')]
    .map((r) => [...r.querySelectorAll('td')].map((c) => c.textContent))`, { [ELEMENT]: table });
}

/** Hooks object URLs and link clicks so that downloads are recorded instead of saved. */
async function recordDownloads() {
  await browser.run(`
    if (window.__downloads) { window.__downloads.length = 0; return; }
    window.__downloads = [];
    const create = URL.createObjectURL.bind(URL);
    URL.createObjectURL = (blob) => {
      const url = create(blob);
      window.__downloads.push({ url, blob });
      return url;
    };
    HTMLAnchorElement.prototype.click = function () {
      const entry = window.__downloads.find((d) => d.url === this.href);
      if (entry) entry.name = this.download;
    };`);
}

/** The last recorded download: its file name and bytes. */
async function lastDownload() {
  const { name, base64 } = await browser.run(`return (async () => {
    const entry = window.__downloads.at(-1);
    const bytes = new Uint8Array(await entry.blob.arrayBuffer());
    let binary = '';
    for (const b of bytes) binary += String.fromCharCode(b);
    return { name: entry.name, base64: btoa(binary) };
  })()`);
  return { name, bytes: Buffer.from(base64, 'base64') };
}

for (const file of ['params_only_conv.bson', 'tracker_era_conv.bson']) {
  test(`${file}: summary, recorded and measured accuracy, suggested options`, async () => {
    const path = join(FLUX_DIR, file);
    const recorded = bsonNumbers(readFileSync(path));
    assert.equal(recorded.acc.toFixed(4), RECORDED_ACC[file]);

    await upload(path);
    const result = await measured(file);
    assert.equal(result.sample, 500);
    assert.equal(result.total, 500);
    assert.ok(result.accuracy >= 0.95, result.line);
    assert.equal(result.accuracy, result.correct / result.total);
    assert.equal(result.orientation, 'rows');
    assert.equal(result.domain, '[0, 1]');
    assert.equal(await checked('Orientation', 'rows'), true);
    assert.equal(await checked('Input domain', '[0, 1]'), true);

    const layers = await browser.run(`return [...document.querySelectorAll(
      '.model-upload ol[aria-label=Layers] li')].map((li) => li.textContent)`);
    const julia = (shape) => `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;
    for (const shape of CONV_SHAPES) {
      assert.ok(layers.some((l) => l.startsWith(`Conv ${julia(shape)} ${julia([shape[3]])}`)),
        `a Conv layer ${julia(shape)}: ${layers}`);
    }
    assert.ok(layers.some((l) => l.startsWith(`Dense ${julia(DENSE_SHAPE)} (10,)`)), `${layers}`);
    assert.equal(layers.length, file.startsWith('params') ? 4 : 9);

    const panel = await browser.run(`return document.querySelector('.model-panel').innerText`);
    assert.ok(panel.includes(`${NUM_PARAMS.toLocaleString('en-US')} parameters`), panel);
    const facts = await browser.byRole('table', 'Recorded in the file and measured by gradlab');
    const rows = await browser.run(`return Object.fromEntries([...arguments[0]
      .querySelectorAll('tbody tr')].map((r) => [r.cells[0].textContent,
      [r.cells[1].textContent, r.cells[2].textContent]]))`, { [ELEMENT]: facts });
    assert.equal(rows.accuracy[0], `${recorded.acc} (acc)`);
    assert.equal(rows.accuracy[1], `${result.accuracy.toFixed(4)} on the first 500 test images`);
    assert.equal(rows.epoch[0], `${recorded.epoch_idx} (epoch_idx)`);

    const table = await suggestionRows();
    assert.equal(table.length, 4);
    const best = table.filter((r) => r[3].startsWith('suggested'));
    assert.deepEqual(best.map((r) => r.slice(0, 2)), [['rows', '[0, 1]']]);
    assert.ok(best[0][2].startsWith(result.accuracy.toFixed(4)));
    // The data README: with rows and columns swapped the accuracy falls to about 0.14.
    for (const row of table.filter((r) => r[0] === 'columns')) {
      assert.ok(Number(row[2].split(' ')[0]) < 0.3, `columns: ${row}`);
    }
  });
}

test('orientation and domain change the accuracy shown; "Use this model" makes it active', async () => {
  const file = 'tracker_era_conv.bson';
  await browser.click(await radio('Orientation', 'columns'));
  const columns = await measured(file);
  assert.equal(columns.orientation, 'columns');
  assert.ok(columns.accuracy < 0.3, columns.line);
  await browser.click(await radio('Input domain', '[-1, 1]'));
  await browser.waitFor(async () => (await measured(file)).domain === '[-1, 1]', 10_000);
  await browser.click(await radio('Orientation', 'rows'));
  await browser.click(await radio('Input domain', '[0, 1]'));
  await browser.waitFor(async () => {
    const m = await measured(file);
    return m.orientation === 'rows' && m.domain === '[0, 1]' && m.accuracy >= 0.95;
  }, 10_000, 'rows and [0, 1] again');

  await browser.click(await browser.byRole('button', 'Use this model'));
  await activeModel(new RegExp(`^${file.replace('.', '\\.')}$`));
  await browser.byRole('button', 'Return to the built-in model');
  assert.equal(await browser.property(await browser.byRole('button', 'Use this model'),
    'disabled'), true);
});

test('the active model downloads in gradlab format and uploads again', async () => {
  const before = await measured('tracker_era_conv.bson');
  await recordDownloads();
  await browser.click(await browser.byRole('button', 'Download the active model'));
  const { name, bytes } = await lastDownload();
  assert.equal(name, 'tracker_era_conv.gradlab');
  assert.equal(bytes.subarray(0, 7).toString('latin1'), 'GRADLAB');
  const saved = await browser.regionText('status', /^Saved the active model as/);
  assert.equal(saved, `Saved the active model as ${name} (${bytes.length.toLocaleString('en-US')}`
    + ' bytes).');

  const path = join(scratch, name);
  writeFileSync(path, bytes);
  await upload(path);
  const again = await measured(name);
  const panel = await browser.run(`return document.querySelector('.model-upload').innerText`);
  assert.ok(panel.includes('gradlab weight file'), panel);
  assert.ok(panel.includes(`${NUM_PARAMS.toLocaleString('en-US')} parameters`), panel);
  assert.equal((await browser.css('.model-options input[type=radio]')).length, 0);
  // The same weights on the same images: the same predictions.
  assert.equal(again.correct, before.correct);
  assert.equal(again.domain, '[0, 1]');
});

test('returning to the built-in model, whose download is the shipped file', async () => {
  await browser.click(await browser.byRole('button', 'Return to the built-in model'));
  await activeModel(/^built-in$/);
  await browser.waitFor(async () => (await browser.allByRole('button',
    'Return to the built-in model')).length === 0, 10_000, 'the return button to go');

  await recordDownloads();
  await browser.click(await browser.byRole('button', 'Download the active model'));
  const { name, bytes } = await lastDownload();
  assert.equal(name, 'built-in.gradlab');
  assert.ok(bytes.equals(readFileSync(join(DIST, 'cnn.gradlab'))), 'the shipped weights');
});

test('files that are not models get a message and the built-in model stays active', async () => {
  const notes = join(scratch, 'notes.txt');
  writeFileSync(notes, 'These are my notes, not a model.\n');
  await upload(notes);
  let alert = await browser.regionText('alert', /notes\.txt could not be used/, 30_000);
  assert.match(alert, /^notes\.txt could not be used: Flux\/BSON\.jl file: not a valid BSON/);
  assert.match(alert, /[^.]\. The active model \(built-in\) is unchanged\.$/);

  const truncated = join(scratch, 'truncated.bson');
  const real = readFileSync(join(FLUX_DIR, 'params_only_conv.bson'));
  writeFileSync(truncated, real.subarray(0, 20_000));
  await upload(truncated);
  alert = await browser.regionText('alert', /truncated\.bson could not be used/, 30_000);
  assert.match(alert, /Flux\/BSON\.jl file: .+\. The active model \(built-in\) is unchanged\.$/);

  const gradlab = readFileSync(join(DIST, 'cnn.gradlab'));
  const cut = join(scratch, 'cut.gradlab');
  writeFileSync(cut, gradlab.subarray(0, gradlab.length - 100));
  await upload(cut);
  alert = await browser.regionText('alert', /cut\.gradlab could not be used/, 30_000);
  assert.match(alert, /gradlab weight file: .+\. The active model \(built-in\) is unchanged\.$/);

  // A Flux CNN of another architecture: half as many channels in every convolution.
  const narrow = join(scratch, 'narrow.bson');
  const shapes = [[3, 3, 1, 8], [8], [3, 3, 8, 16], [16], [3, 3, 16, 16], [16], [10, 144], [10]];
  writeFileSync(narrow, bson({ acc: 0.98, epoch_idx: 3n, params: shapes.map(juliaZeros) }));
  assert.deepEqual(bsonNumbers(readFileSync(narrow)), { acc: 0.98, epoch_idx: 3 });
  await upload(narrow);
  alert = await browser.regionText('alert', /narrow\.bson could not be used/, 30_000);
  assert.match(alert, /[([]3, 3, 1, 16[)\]]/, 'names the shape expected');
  assert.match(alert, /[([]3, 3, 1, 8[)\]]/, 'names the shape found');

  assert.equal(await activeModel(/./), 'built-in');
  // The last good upload is still on show.
  await measured('tracker_era_conv.gradlab');
  assert.deepEqual(await browser.consoleErrors(), []);
});

test('leaving the lab while a model is measured stops the measurement cleanly', async () => {
  await upload(join(FLUX_DIR, 'params_only_conv.bson'));
  await browser.byRole('progressbar', 'Measuring progress', 30_000);
  await browser.goto(`${server.url}#/fit`);
  await browser.run(`location.hash = '#/attack'`);
  await activeModel(/^built-in$/);
  // A fresh panel: nothing uploaded, the file input ready.
  await uploadInput();
  assert.equal((await browser.css('.model-upload')).length, 0);
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  assert.equal((await browser.allByRole('progressbar', 'Measuring progress')).length, 0);
  assert.deepEqual(await browser.consoleErrors(), []);
});
