// Epochs per second of the Fit lab's training loop in headless Chromium, for H = 4, 16, 64 on
// the 1,000-point benchmark data (see `gradlab bench-fit` for the same workload natively).
//
// Run: GRADLAB_DIST=<built page> node tests/browser/bench/fit-bench.mjs [epochs] [repeats]
// Prints one line per hidden size: the median ms per epoch over epochs 2..N and epochs/s.

import { Browser } from '../webdriver.mjs';
import { serve } from '../static-server.mjs';

const DIST = process.env.GRADLAB_DIST ?? 'dist';
const epochs = Number(process.argv[2] ?? 200);
const repeats = Number(process.argv[3] ?? 3);

const server = await serve(DIST);
const browser = await Browser.start();
try {
  await browser.goto(`${server.url}#/fit`);
  await browser.waitFor(() => browser.run(`return typeof window.gradlabFitBench === 'function'`),
    120_000, 'the Fit lab');
  const version = await browser.run(`return navigator.userAgent`);
  console.log(`# ${version}`);
  console.log(`# MLP 1-H-1 tanh, Adam, full batch 1000, ${epochs} epochs, median of ${repeats}`);
  console.log('H\tms/epoch\tepochs/s\truns (ms/epoch)');
  for (const hidden of [4, 16, 64]) {
    const runs = [];
    for (let r = 0; r < repeats; r++) {
      runs.push(await browser.cmd('POST', '/execute/async', {
        script: `const done = arguments[arguments.length - 1];
          window.gradlabFitBench(arguments[0], arguments[1]).then(done, (e) => done(-1));`,
        args: [hidden, epochs],
      }));
    }
    const sorted = [...runs].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)];
    console.log(`${hidden}\t${median.toFixed(3)}\t${(1000 / median).toFixed(0)}\t` +
      runs.map((v) => v.toFixed(3)).join(' '));
  }
} finally {
  await browser.quit();
  server.close();
}
