// Renders a standalone chart page (viz.Page or viz.WritePage: the ECharts bundle inlined, so the page
// needs no network) to a PNG in Debian's Chromium, driven by playwright-core. Nothing here downloads a
// browser. It waits until every chart of the page has drawn, and fails when one did not or the page
// reported an error.
//
//   node browser/screenshot.mjs PAGE.html OUT.png [--width 960]
//
// The width is the window's; the picture is the whole page at that width.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { launchBrowser } from './jupyter.mjs';

function usage(message) {
  console.error(`screenshot: ${message}\nusage: node browser/screenshot.mjs PAGE.html OUT.png [--width 960]`);
  process.exit(2);
}

const args = process.argv.slice(2);
let width = 960;
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--width') {
    width = Number(args[++i]);
    if (!Number.isInteger(width) || width < 200) usage(`--width wants a number of pixels, not ${args[i]}`);
  } else if (args[i].startsWith('-')) {
    usage(`unknown flag ${args[i]}`);
  } else {
    files.push(args[i]);
  }
}
if (files.length !== 2) usage(`want a page and a PNG, got ${files.length} arguments`);
const [input, output] = files;

const browser = await launchBrowser(width, 800);
try {
  const page = await browser.context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  await page.goto(pathToFileURL(resolve(input)).href, { waitUntil: 'load' });
  // A chart has drawn when ECharts holds an instance for its element and the instance has painted its
  // canvas (the charts are not animated, so the first frame is the last).
  const drawn = () => {
    const els = [...document.querySelectorAll('.einspace-chart')];
    return els.length > 0 && !!window.echarts && els.every((el) => {
      const canvas = el.querySelector('canvas');
      return echarts.getInstanceByDom(el) && canvas && canvas.width > 0 && canvas.height > 0;
    });
  };
  try {
    await page.waitForFunction(drawn, null, { timeout: 30_000 });
  } catch {
    const charts = await page.evaluate(() => document.querySelectorAll('.einspace-chart').length);
    problems.push(`not every chart drew within 30 s (${charts} chart elements; ECharts loaded: ${await page.evaluate(() => !!window.echarts)})`);
  }
  await page.screenshot({ path: output, fullPage: true });
  if (problems.length > 0) {
    console.error(`screenshot: ${input}:\n  ${problems.join('\n  ')}`);
    process.exitCode = 1;
  } else {
    console.log(`wrote ${output}`);
  }
} finally {
  await browser.close();
}
