// The notebooks as a person meets them: a real Jupyter Notebook server with the "einspace" kernel, Debian's
// Chromium at a 1400 px window (the classic Notebook's output area is then about 970 px wide), every notebook
// run through the UI (Cell > Run All), and for every chart: it drew (an ECharts instance whose canvas has
// paint on it), it fits its cell, and no output folded into a scroll box; no console errors; and after a
// page reload, a new cell's chart still draws. Screenshots go to out/browser/.
//
//   cd browser && npm ci && node --test          # or: bash scripts/browser-test.sh
//   NOTEBOOKS=05-teaching-nas.ipynb node --test  # a subset
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchBrowser, startJupyter } from './jupyter.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = process.env.BROWSER_OUT || join(repo, 'out', 'browser');
const all = readdirSync(join(repo, 'notebooks')).filter((f) => f.endsWith('.ipynb')).sort();
const notebooks = process.env.NOTEBOOKS ? process.env.NOTEBOOKS.split(',') : all;

// Console messages that are not ours: Debian's notebook asks for the ipywidgets extension it lacks; GoNB's
// widgets talk to the kernel over a second websocket of their own (gonb_comm), so the page's own kernel
// connection sees messages of a comm it did not open and the classic Notebook logs "Comm promise not
// found" (harmless: the widgets work; it is GoNB's design, not a defect of ours).
const foreignErrors = [/nbextensions\/widgets\//, /favicon/, /^Comm promise not found for comm id/];

let jupyter, browser, work;

before(async () => {
  // A copy of the notebooks, so that nothing the page does can touch the repository's files; beside it
  // a copy of the repository's results/ (notebook 04 reads the CPU reproduction from ../results), and a
  // fresh folder for the notebooks' own runs, so that resumable notebooks (04) run from the start.
  work = mkdtempSync(join(tmpdir(), 'einspace-browser-'));
  cpSync(join(repo, 'notebooks'), join(work, 'notebooks'), { recursive: true, filter: (p) => !p.endsWith('.go') });
  cpSync(join(repo, 'results'), join(work, 'results'), { recursive: true });
  process.env.EINSPACE_NOTEBOOK_RESULTS = join(work, 'notebook-runs');
  jupyter = await startJupyter(join(work, 'notebooks'));
  browser = await launchBrowser(1400, 1000);
  mkdirSync(outDir, { recursive: true });
});

after(async () => {
  await browser?.close();
  await jupyter?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

// open loads a notebook in a new page and waits for its kernel; it collects the page's errors.
async function open(name) {
  const page = await browser.context.newPage();
  const errors = [];
  const consoleLog = [];
  const t0 = Date.now();
  page.on('console', (m) => consoleLog.push(`${((Date.now() - t0) / 1000).toFixed(2)} ${m.type()}: ${m.text()}`));
  if (process.env.BROWSER_DEBUG === '1') {
    // GoNB's page script logs its protocol when gonb_comm.debug is set.
    await page.addInitScript(() => setInterval(() => { if (globalThis.gonb_comm) globalThis.gonb_comm.debug = true; }, 20));
  }
  page.on('console', (m) => {
    if (m.type() === 'error' && !foreignErrors.some((re) => re.test(m.text() + ' ' + (m.location()?.url || '')))) {
      errors.push(m.text());
    }
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(jupyter.url(`notebooks/${name}`));
  await waitReady(page);
  return { page, errors, consoleLog };
}

async function waitReady(page) {
  await page.waitForFunction(() => window.Jupyter && Jupyter.notebook && Jupyter.notebook._fully_loaded &&
    Jupyter.notebook.kernel && Jupyter.notebook.kernel.is_connected(), null, { timeout: 180_000 });
  await page.evaluate(() => Jupyter.notebook.set_autosave_interval(0)); // never write the notebook back
}

// runAll clicks Cell > Run All, lets interact (if given) play with the cells' controls while they run,
// and waits until every code cell has run, or one failed.
async function runAll(page, timeoutMs, interact) {
  await page.click('#celllink');
  await page.click('#run_all_cells > a');
  if (interact) await interact(page);
  await page.waitForFunction(() => {
    const cells = Jupyter.notebook.get_cells().filter((c) => c.cell_type === 'code');
    const failed = cells.some((c) => c.output_area.outputs.some((o) => o.output_type === 'error'));
    const idle = document.querySelector('#kernel_indicator_icon')?.classList.contains('kernel_idle_icon');
    return failed || (idle && cells.every((c) => typeof c.input_prompt_number === 'number'));
  }, null, { timeout: timeoutMs, polling: 500 });
}

// inspect waits until every chart has drawn or given up (a chart may wait for ECharts to load), then
// measures every code cell's outputs and charts in the page.
async function inspect(page) {
  await page.waitForFunction(() => !(window.einspaceECharts && window.einspaceECharts.loading) &&
    [...document.querySelectorAll('.einspace-chart')].every((el) =>
      (window.echarts && echarts.getInstanceByDom(el)) || el.innerText.includes('cannot draw')), null, { timeout: 30_000 })
    .catch(() => {}); // what did not draw is reported below
  return page.evaluate(() => Jupyter.notebook.get_cells().map((cell, index) => {
    if (cell.cell_type !== 'code') return null;
    const area = cell.output_area.element[0];
    const text = area.innerText.slice(0, 400);
    const errors = cell.output_area.outputs.filter((o) => o.output_type === 'error').map((o) => `${o.ename}: ${o.evalue}`);
    if (area.querySelector('.gonb-err')) errors.push(`GoNB error: ${area.querySelector('.gonb-err').innerText.slice(0, 600)}`);
    const charts = [...area.querySelectorAll('.einspace-chart')].map((el) => {
      const rect = el.getBoundingClientRect();
      const sub = el.closest('.output_subarea')?.getBoundingClientRect();
      const canvas = el.querySelector('canvas');
      let painted = 0;
      if (canvas && canvas.width > 0 && canvas.height > 0) {
        const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let seen = 0;
        for (let i = 0; i < data.length; i += 4 * 97) { seen++; if (data[i + 3] > 0) painted++; }
        painted /= seen;
      }
      return {
        id: el.id,
        instance: !!(window.echarts && echarts.getInstanceByDom(el)),
        width: rect.width, height: rect.height, areaWidth: sub ? sub.width : 0,
        canvas: canvas ? [canvas.width, canvas.height] : null,
        painted,
        message: el.innerText.includes('cannot draw') ? el.innerText : '',
        title: (window.echarts && echarts.getInstanceByDom(el)?.getOption()?.title?.[0]?.text) || '',
      };
    });
    return {
      index, prompt: cell.input_prompt_number, source: cell.get_text().split('\n').slice(0, 2).join(' | '),
      text, errors, charts, scrolled: cell.output_area.element.hasClass('output_scroll'),
    };
  }).filter(Boolean));
}

// screenshots writes the whole page and each code cell that shows a chart.
async function screenshots(page, name, cells) {
  const dir = join(outDir, name.replace(/\.ipynb$/, ''));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // The classic Notebook scrolls inside #site: let the page grow instead, so that screenshots of tall
  // cells and of the whole page hold what a reader scrolls through.
  await page.addStyleTag({ content: '#site { height: auto !important; overflow: visible !important; } body { overflow: visible !important; }' });
  for (const c of cells.filter((c) => c.charts.length > 0)) {
    const el = (await page.$$('#notebook-container > .cell'))[c.index];
    await el.scrollIntoViewIfNeeded();
    await el.screenshot({ path: join(dir, `cell-${String(c.index).padStart(2, '0')}.png`) });
  }
  await page.screenshot({ path: join(dir, 'page.png'), fullPage: true });
  writeFileSync(join(dir, 'cells.json'), JSON.stringify(cells, null, 2));
}

// checkCharts asserts what a person would check by looking at each chart.
function checkCharts(name, cells) {
  const problems = [];
  let charts = 0;
  for (const c of cells) {
    const where = `${name} cell ${c.index} (${c.source})`;
    if (c.prompt === null || c.prompt === undefined || c.prompt === '*') problems.push(`${where}: did not run`);
    for (const e of c.errors) problems.push(`${where}: ${e}`);
    if (c.scrolled) problems.push(`${where}: the output is folded into a scroll box`);
    for (const ch of c.charts) {
      charts++;
      const what = `${where} chart ${ch.id}${ch.title ? ` "${ch.title}"` : ''}`;
      if (ch.message) problems.push(`${what}: ${ch.message}`);
      else if (!ch.instance || !ch.canvas) problems.push(`${what}: no chart was drawn`);
      else if (ch.canvas[0] < 100 || ch.canvas[1] < 100) problems.push(`${what}: canvas only ${ch.canvas}`);
      else if (ch.painted < 0.002) problems.push(`${what}: the canvas is blank`);
      if (ch.width > ch.areaWidth + 1) problems.push(`${what}: ${ch.width} px wide in a ${ch.areaWidth} px cell`);
    }
  }
  return { problems, charts };
}

// docsImages are the README's pictures, refreshed from the live page by REFRESH_DOCS=1: the output whose
// chart has the given title, in the given notebook.
const docsImages = [
  { notebook: '01-grammar-tour.ipynb', title: 'wrn16_4: derivation tree', file: 'notebook-01-wrn.png' },
];

async function refreshDocs(page, name) {
  for (const img of docsImages.filter((d) => d.notebook === name)) {
    const handle = await page.evaluateHandle((title) => [...document.querySelectorAll('.einspace-chart')]
      .find((el) => echarts.getInstanceByDom(el)?.getOption()?.title?.[0]?.text === title)?.closest('.output_subarea'), img.title);
    const el = handle.asElement();
    assert.ok(el, `${name}: no output with the chart "${img.title}" for docs/img/${img.file}`);
    await el.screenshot({ path: join(repo, 'docs', 'img', img.file) });
  }
}

// explorerState reads the explorer's panel: its settings, history and statistics, and the text.
function explorerState(page) {
  return page.evaluate(() => {
    const q = (k) => document.querySelector(`.einspace-explorer-state [data-k="${k}"]`)?.textContent;
    const row = (name) => [...document.querySelectorAll('table tr')].find((tr) => tr.cells[0]?.textContent === name)?.cells[1]?.textContent;
    const hist = document.querySelector('.einspace-explorer-state')?.textContent.match(/history \((\d+)\)/);
    return {
      pc: q('pc'), seed: q('seed'), input: q('input'), message: q('message'), history: hist ? Number(hist[1]) : 0,
      params: row('parameters'), nodes: row('nodes'), output: row('output shape'), mode: row('mode'),
      text: document.querySelector('.einspace-explorer-text')?.value,
      charts: [...document.querySelectorAll('.einspace-chart')].filter((el) => window.echarts && echarts.getInstanceByDom(el)).length,
    };
  });
}

// explore drives the grammar explorer of 06 as a student would: a slider, the buttons, the menus, then
// done; after each action it waits for the panel to change and checks what it shows.
async function explore(page) {
  const log = [];
  await page.waitForFunction(() => document.querySelectorAll('.einspace-explorer button').length === 5, null, { timeout: 180_000 })
    .catch(async (err) => {
      const out = await page.evaluate(() => Jupyter.notebook.get_cells().filter((c) => c.cell_type === 'code')
        .map((c) => c.output_area.element[0].innerText.slice(0, 600)).join('\n----\n'));
      throw new Error(`the explorer's controls did not appear (${err.message}); the cells show:\n${out}`);
    });
  await page.waitForFunction(() => document.querySelector('.einspace-explorer-state [data-k="message"]')?.textContent.startsWith('ready'),
    null, { timeout: 60_000 });
  let state = await explorerState(page);
  assert.equal(state.pc, '0.32');
  assert.equal(state.history, 1);
  // act does something, waits until the panel shows what want accepts, and returns the new state.
  const signature = () => page.evaluate(() => JSON.stringify([document.querySelector('.einspace-explorer-state')?.textContent,
    document.querySelector('.einspace-explorer-text')?.value,
    [...document.querySelectorAll('table tr')].map((tr) => tr.textContent).join('|')]));
  async function act(what, action, want) {
    const before = state;
    const sig = await signature();
    const t0 = Date.now();
    await action();
    await page.waitForFunction((prev) => {
      const now = JSON.stringify([document.querySelector('.einspace-explorer-state')?.textContent,
        document.querySelector('.einspace-explorer-text')?.value,
        [...document.querySelectorAll('table tr')].map((tr) => tr.textContent).join('|')]);
      return now !== prev;
    }, sig, { timeout: 30_000 }).catch(async (err) => {
      throw new Error(`${what}: the explorer did not change in 30 s; it shows ${JSON.stringify(await explorerState(page))} (${err.message})`);
    });
    await page.waitForFunction(() => [...document.querySelectorAll('.einspace-chart')].every((el) => window.echarts && echarts.getInstanceByDom(el)), null, { timeout: 30_000 });
    state = await explorerState(page);
    log.push(`${what}: ${Date.now() - t0} ms → ${state.message} (params ${state.params}, nodes ${state.nodes})`);
    want(state, before);
  }
  const slider = (i) => page.locator('.einspace-explorer input[type=range]').nth(i);
  const button = (label) => page.locator('.einspace-explorer button', { hasText: label });
  const select = (i) => page.locator('.einspace-explorer select').nth(i);
  await act('p(computation) to 0.60', () => slider(0).evaluate((el) => {
    el.value = 60; el.dispatchEvent(new Event('input')); el.dispatchEvent(new Event('change'));
  }), (s) => { assert.equal(s.pc, '0.60'); assert.equal(s.message, 'sample (p = 0.60, seed 1)'); assert.equal(s.history, 1); });
  await act('mutate', () => button('mutate').click(), (s, b) => {
    assert.equal(s.message, 'mutation'); assert.equal(s.history, 2); assert.notEqual(s.text, b.text);
  });
  const mutated = state.text;
  await act('back', () => button('back').click(), (s, b) => { assert.equal(s.history, 1); assert.notEqual(s.text, mutated); });
  await act('cross over', () => button('cross over').click(), (s) => { assert.match(s.message, /^crossover with a sample of \d+ nodes$/); assert.equal(s.history, 2); });
  await act('re-sample', () => button('re-sample').click(), (s, b) => { assert.equal(s.history, 3); assert.notEqual(s.text, b.text); });
  await act('seed to 7', () => slider(1).evaluate((el) => {
    el.value = 7; el.dispatchEvent(new Event('input')); el.dispatchEvent(new Event('change'));
  }), (s) => { assert.equal(s.seed, '7'); assert.equal(s.history, 1); });
  await act('start from resnet18', () => select(1).selectOption({ label: 'resnet18' }), (s) => {
    assert.equal(s.message, 'resnet18'); assert.equal(s.params, '11210560 (11.2M)'); assert.equal(s.output, '(512,2,2)'); assert.equal(s.mode, 'im');
  });
  await act('input 1x28x28', () => select(0).selectOption({ label: '1x28x28' }), (s) => {
    assert.equal(s.input, '1x28x28'); assert.equal(s.params, '11209408 (11.2M)'); // the stem convolution sees one channel
  });
  await act('start from vit', () => select(1).selectOption({ label: 'vit' }), (s) => { assert.equal(s.mode, 'col'); assert.equal(s.output, '(49,512)'); });
  await act('typed text', async () => {
    const box = page.locator('.einspace-explorer-input');
    await box.fill('routing[im2col3k1s1p, computation<linear64>, col2im]');
    await box.press('Enter');
  }, (s) => { assert.equal(s.message, 'your architecture'); assert.equal(s.params, '640 (640)'); assert.equal(s.output, '(64,28,28)'); });
  await act('typed text with a mistake', async () => {
    const box = page.locator('.einspace-explorer-input');
    await box.fill('sequential(linear64, computation<norm>)');
    await box.press('Enter');
  }, (s) => { assert.match(s.message, /^your text: 1:12: expected a module/); assert.equal(s.params, '640 (640)'); });
  assert.ok(state.charts >= 2, 'the tree and the graph drew');
  await button('done').click();
  await page.waitForFunction(() => [...document.querySelectorAll('.output_area')].some((o) => o.textContent.includes('grammar explorer: done')), null, { timeout: 30_000 });
  console.log(`explorer:\n  ${log.join('\n  ')}`);
}

// evolveState reads the evolution playground's panel.
function evolveState(page) {
  return page.evaluate(() => {
    const q = (k) => document.querySelector(`.einspace-evolve-state [data-k="${k}"]`)?.textContent;
    return { generation: Number(q('generation')), best: Number(q('best')), population: Number(q('population')), story: q('story'),
      ready: !!document.querySelector('.einspace-evolve-state [data-k="ready"]') };
  });
}

// evolve drives the evolution playground of 06: step, run 10, reset, done, checking each generation's
// account of itself.
async function evolve(page) {
  await page.waitForFunction(() => !!document.querySelector('.einspace-evolve-state [data-k="ready"]'), null, { timeout: 120_000 });
  let s = await evolveState(page);
  assert.equal(s.generation, 0);
  assert.equal(s.population, 10);
  const button = (label) => page.locator('.einspace-evolve button', { hasText: new RegExp(`^${label}$`) });
  const until = (generation) => page.waitForFunction((g) =>
    Number(document.querySelector('.einspace-evolve-state [data-k="generation"]')?.textContent) === g, generation, { timeout: 30_000 });
  await button('step').click();
  await until(1);
  s = await evolveState(page);
  assert.match(s.story, /^generation 1: tournament #\d+ \([\d.]+\), #\d+ \([\d.]+\), #\d+ \([\d.]+\) → parent #\d+ \([\d.]+\); its mutated child #10 scores [\d.]+; the oldest, #0 \([\d.]+\), leaves/);
  const best1 = s.best;
  await button('run 10').click();
  await until(11);
  s = await evolveState(page);
  assert.match(s.story, /child #20 .* the oldest, #10 /);
  assert.ok(s.best >= best1, 'the best so far never falls');
  await page.waitForFunction(() => [...document.querySelectorAll('.einspace-evolve-state ~ * .einspace-chart, .einspace-chart')]
    .every((el) => window.echarts && echarts.getInstanceByDom(el)), null, { timeout: 30_000 });
  const titles = await page.evaluate(() => [...document.querySelectorAll('.einspace-chart')].map((el) => echarts.getInstanceByDom(el)?.getOption()?.title?.[0]?.text));
  assert.ok(titles.includes('population after generation 11') && titles.some((t) => /^parent #\d+ \(above\) → child #20 \(below\)$/.test(t)), `charts: ${titles}`);
  await button('reset').click();
  await until(0);
  await button('done').click();
  await page.waitForFunction(() => [...document.querySelectorAll('.output_area')].some((o) => o.textContent.includes('evolution playground: done')), null, { timeout: 30_000 });
}

// interactions play with the controls of the notebooks that have some, while Run All runs them.
const interactions = { '06-interactive.ipynb': async (page) => { await explore(page); await evolve(page); } };

// How long Run All may take per notebook (2 cores, the kernel's build cache warm or cold).
const budgets = { '03-training.ipynb': 8 * 60_000, '04-search-reproduction.ipynb': 9 * 60_000 };

for (const name of notebooks) {
  test(`${name}: every cell runs in the browser and every chart draws and fits`, { timeout: 12 * 60_000 }, async () => {
    const { page, errors, consoleLog } = await open(name);
    try {
      const start = Date.now();
      await runAll(page, budgets[name] || 5 * 60_000, interactions[name]);
      const cells = await inspect(page);
      await screenshots(page, name, cells);
      if (process.env.REFRESH_DOCS) await refreshDocs(page, name);
      const { problems, charts } = checkCharts(name, cells);
      console.log(`${name}: ${cells.length} code cells, ${charts} charts, ${((Date.now() - start) / 1000).toFixed(0)} s`);
      assert.ok(charts > 0, `${name}: no chart`);
      assert.deepEqual(problems, [], problems.join('\n'));
      assert.deepEqual(errors, [], `console errors in ${name}:\n${errors.join('\n')}`);
    } finally {
      // The page's console and the server's log (with the kernels' stderr), for the reader of a failure.
      const dir = join(outDir, name.replace(/\.ipynb$/, ''));
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'console.log'), consoleLog.join('\n') + '\n');
      writeFileSync(join(dir, 'jupyter.log'), jupyter.log.join(''));
      await page.close();
    }
  });
}

// readmeCell is the README's paste-ready cell: the code block after the marker comment.
function readmeCell() {
  const readme = readFileSync(join(repo, 'README.md'), 'utf8');
  const at = readme.indexOf('<!-- cell: browser/notebooks.test.mjs');
  const m = /```go\n([\s\S]*?)```/.exec(readme.slice(at));
  assert.ok(at >= 0 && m, 'the README has no marked cell');
  return m[1];
}

// The README's cell, pasted into a new notebook, runs and draws. Then a page reload (or a new tab)
// loses ECharts while the kernel still believes it sent it: the same cell run again must still draw,
// loading the library the kernel installer put in Jupyter's nbextensions.
test('the README cell runs in a new notebook, and draws again after a page reload', { timeout: 5 * 60_000 }, async () => {
  const name = 'readme-cell.ipynb';
  const nb = {
    cells: [{ cell_type: 'code', metadata: {}, outputs: [], execution_count: null, source: readmeCell() }],
    metadata: { kernelspec: { name: 'einspace', display_name: 'Go (einspace)', language: 'go' } },
    nbformat: 4, nbformat_minor: 5,
  };
  writeFileSync(join(work, 'notebooks', name), JSON.stringify(nb));
  const { page, errors } = await open(name);
  try {
    await runAll(page, 3 * 60_000);
    let cells = await inspect(page);
    let { problems, charts } = checkCharts(name, cells);
    assert.deepEqual(problems, [], problems.join('\n'));
    assert.equal(charts, 3, 'the README cell shows a diff, a tree and a graph');
    assert.match(cells[0].text, /parameters before the mutation/);
    // The mouse wheel over a chart scrolls the page: charts zoom only after a click on them.
    const chart = page.locator('.einspace-chart').first();
    await chart.scrollIntoViewIfNeeded();
    const box = await chart.boundingBox();
    const top = () => page.evaluate(() => document.getElementById('site').scrollTop);
    const before = await top();
    await page.mouse.move(box.x + box.width / 2, box.y + Math.min(box.height / 2, 200));
    await page.mouse.wheel(0, 300);
    await page.waitForTimeout(500);
    assert.ok(await top() > before, 'the mouse wheel over a chart did not scroll the page');
    await screenshots(page, name, cells);
    await page.reload();
    await waitReady(page);
    assert.equal(await page.evaluate(() => typeof window.echarts), 'undefined', 'the reloaded page still has ECharts: this test tests nothing');
    await runAll(page, 3 * 60_000); // the same cell: a new output, on a page without ECharts
    cells = await inspect(page);
    ({ problems, charts } = checkCharts(name, cells));
    assert.equal(charts, 3);
    assert.deepEqual(problems, [], problems.join('\n'));
    assert.ok(!JSON.stringify(await page.evaluate(() => Jupyter.notebook.toJSON())).includes('data-einspace="echarts'),
      'the kernel sent the bundle again: the reload case was not exercised');
    assert.deepEqual(errors, [], `console errors:\n${errors.join('\n')}`);
  } finally {
    await page.close();
  }
});
