// Drives Debian's Chromium headless (puppeteer-core, pinned in package.json)
// against a running `dvae serve` and checks the explorer page as a user would
// use it: it loads with no console error and nothing from another origin, two
// models render side by side, moving a slider changes the decoded image (the
// input-to-image latency is measured in the page over many moves), linked
// sliders move both models, drawing on the canvas sets the sliders and shows a
// prediction, a test image can be picked, traversal strips and prior samples
// appear, and both downloads arrive. Prints one JSON line; exit code 0 when
// every check passed. Run by tests/serve/browser_test.cpp:
//   node explorer_check.mjs --url http://127.0.0.1:PORT/ --screenshot OUT.png --downloads DIR
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import puppeteer from 'puppeteer-core';

function arg(name, fallback) {
  const i = process.argv.indexOf('--' + name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const url = arg('url');
const chromium = arg('chromium', '/usr/bin/chromium');
const screenshot = arg('screenshot', 'explorer.png');
const downloads = arg('downloads', fs.mkdtempSync(path.join(os.tmpdir(), 'dvae-dl-')));
const moves = Number(arg('moves', '40'));
const origin = new URL(url).origin;

const result = { ok: false, checks: {}, console_errors: [], foreign_requests: [], failed_requests: [] };
const check = (name, pass, detail) => {
  result.checks[name] = detail === undefined ? Boolean(pass) : { pass: Boolean(pass), detail };
  if (!pass) result.failed = (result.failed || []).concat(name);
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(page, fn, arg0, what, timeout = 10000) {
  try {
    await page.waitForFunction(fn, { timeout, polling: 20 }, arg0);
    return true;
  } catch (e) {
    result.timeouts = (result.timeouts || []).concat(what);
    return false;
  }
}

// A fingerprint of a canvas's pixels.
const canvasHash = (page, selector) => page.$eval(selector, (c) => c.toDataURL());

function quantile(sorted, q) {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))));
  return sorted[i];
}

async function run() {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dvae-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    userDataDir,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-quic',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', '--window-size=1400,1200'],
    defaultViewport: { width: 1400, height: 1200 },
    downloadBehavior: { policy: 'allow', downloadPath: downloads },
  });
  try {
    const page = await browser.newPage();
    page.on('console', (m) => { if (m.type() === 'error') result.console_errors.push(m.text()); });
    page.on('pageerror', (e) => result.console_errors.push('pageerror: ' + e.message));
    page.on('request', (r) => {
      const u = r.url();
      if (!u.startsWith(origin) && !u.startsWith('data:') && !u.startsWith('blob:')) result.foreign_requests.push(u);
    });
    page.on('requestfailed', (r) => {
      if (!r.url().startsWith('blob:')) result.failed_requests.push(r.url() + ' ' + (r.failure() || {}).errorText);
    });

    const t0 = Date.now();
    await page.goto(url, { waitUntil: 'load' });
    check('page ready', await waitFor(page, () => window.dvaeExplorer && window.dvaeExplorer.ready, null, 'ready'));
    result.load_ms = Date.now() - t0;

    // Two models side by side: both panels visible, same row, not overlapping, each image drawn.
    const boxes = await page.$$eval('section.model', (ss) => ss.map((s) => {
      const r = s.getBoundingClientRect();
      return { x: r.x, y: r.y, w: r.width, h: r.height };
    }));
    result.panels = boxes.length;
    const side = boxes.length >= 2 && Math.abs(boxes[0].y - boxes[1].y) < 2 && boxes[0].x + boxes[0].w <= boxes[1].x &&
      boxes[1].x + boxes[1].w <= 1400;
    check('two models side by side', side, boxes);
    const blank = await page.evaluate(() => {
      const c = document.createElement('canvas');
      c.width = 168; c.height = 168;
      return c.toDataURL();
    });
    const first = [await canvasHash(page, 'section.model[data-model="0"] canvas.decoded'),
      await canvasHash(page, 'section.model[data-model="1"] canvas.decoded')];
    check('both decoded images drawn', first[0] !== blank && first[1] !== blank);
    check('sliders per latent', (await page.$$('section.model[data-model="0"] input.latent')).length > 0);

    // Move the top slider of model 0 with the keyboard, one step at a time, waiting for each new image.
    const slider = 'section.model[data-model="0"] input.latent';
    await page.focus(slider);
    const before = await canvasHash(page, 'section.model[data-model="0"] canvas.decoded');
    await page.evaluate(() => { window.dvaeExplorer.latencies.length = 0; });
    for (let i = 0; i < moves; i++) {
      const n = await page.evaluate(() => window.dvaeExplorer.decodes);
      await page.keyboard.press(i < moves / 2 ? 'ArrowRight' : 'ArrowLeft');
      await waitFor(page, (k) => window.dvaeExplorer.decodes > k, n, 'decode after key', 5000);
    }
    await page.keyboard.press('End');  // the slider's maximum, +3
    await waitFor(page, () => document.querySelector('section.model[data-model="0"] input.latent').value === '3', null, 'slider at 3');
    await sleep(300);
    const after = await canvasHash(page, 'section.model[data-model="0"] canvas.decoded');
    check('moving a slider changes the image', before !== after);
    const samples = (await page.evaluate(() => window.dvaeExplorer.latencies.map((l) => l.ms))).sort((a, b) => a - b);
    result.latency_ms = {
      n: samples.length, median: quantile(samples, 0.5), p90: quantile(samples, 0.9), max: samples[samples.length - 1],
      min: samples[0],
    };
    check('latencies measured', samples.length >= moves / 2, samples.length);

    // A drag across the slider (many input events while the mouse moves) also redraws live.
    const track = await page.$eval(slider, (s) => { const r = s.getBoundingClientRect(); return { x: r.x, y: r.y + r.height / 2, w: r.width }; });
    const dragStart = await page.evaluate(() => window.dvaeExplorer.decodes);
    await page.mouse.move(track.x + 4, track.y);
    await page.mouse.down();
    for (let i = 1; i <= 20; i++) { await page.mouse.move(track.x + 4 + (track.w - 8) * i / 20, track.y); await sleep(15); }
    await page.mouse.up();
    await sleep(300);
    check('dragging a slider redraws while it moves', (await page.evaluate(() => window.dvaeExplorer.decodes)) - dragStart >= 3);

    // Linked sliders: moving latent d of model 0 moves latent d of model 1 and its image.
    await page.click('#link');
    const d = await page.$eval(slider, (s) => s.dataset.latent);
    const linkedBefore = await canvasHash(page, 'section.model[data-model="1"] canvas.decoded');
    await page.$eval(slider, (s) => { s.value = '-2.5'; s.dispatchEvent(new Event('input', { bubbles: true })); });
    const linked = await waitFor(page, (k) => {
      const s = document.querySelector(`section.model[data-model="1"] input.latent[data-latent="${k}"]`);
      return s && Number(s.value) === -2.5;
    }, d, 'linked slider');
    await sleep(300);
    check('linked sliders move the other model', linked &&
      linkedBefore !== await canvasHash(page, 'section.model[data-model="1"] canvas.decoded'));
    await page.click('#link');

    // Draw a digit: the encoders' means set the sliders, the reconstruction and a prediction appear.
    const codeBefore = await page.$$eval('section.model[data-model="0"] input.latent', (ss) => ss.map((s) => s.value).join());
    const encodes = await page.evaluate(() => window.dvaeExplorer.encodes);
    const canvas = await page.$eval('#draw', (c) => { const r = c.getBoundingClientRect(); return { x: r.x, y: r.y, w: r.width }; });
    const stroke = [[0.35, 0.2], [0.65, 0.2], [0.55, 0.5], [0.45, 0.8]];  // a "7"
    await page.mouse.move(canvas.x + stroke[0][0] * canvas.w, canvas.y + stroke[0][1] * canvas.w);
    await page.mouse.down();
    for (const [fx, fy] of stroke.slice(1)) {
      await page.mouse.move(canvas.x + fx * canvas.w, canvas.y + fy * canvas.w, { steps: 12 });
    }
    await page.mouse.up();
    const encoded = await waitFor(page, (k) => window.dvaeExplorer.encodes > k, encodes, 'encode drawing');
    const codeAfter = await page.$$eval('section.model[data-model="0"] input.latent', (ss) => ss.map((s) => s.value).join());
    check('drawing sets the sliders', encoded && codeAfter !== codeBefore, { before: codeBefore, after: codeAfter });
    const prediction = await page.$eval('section.model[data-model="0"] .prediction', (p) => ({
      verdict: (p.querySelector('.verdict') || {}).textContent || '',
      bars: p.querySelectorAll('.bar').length,
    }));
    result.prediction = prediction.verdict;
    check('drawing shows a prediction', /prediction: \S+ \(\d+%\)/.test(prediction.verdict) && prediction.bars >= 2, prediction);
    check('drawing shows a reconstruction', (await canvasHash(page, 'section.model[data-model="0"] canvas.recon')) !== blank);

    // Pick a test image.
    const picks = await page.evaluate(() => window.dvaeExplorer.encodes);
    await page.click('#test-random');
    await waitFor(page, (k) => window.dvaeExplorer.encodes > k, picks, 'test image');
    const label = await page.$eval('#input-label', (e) => e.textContent);
    check('picking a test image shows it with its label', /test image #\d+, label \S+/.test(label), label);

    // Traversal strip of the latent under the cursor, prior samples, downloads.
    const traversals = await page.evaluate(() => window.dvaeExplorer.traversals);
    const rows = await page.$$('section.model[data-model="1"] .slider-row');
    await rows[rows.length > 1 ? 1 : 0].hover();
    await waitFor(page, (k) => window.dvaeExplorer.traversals > k, traversals, 'traversal');
    const caption = await page.$eval('section.model[data-model="1"] .traversal .caption', (e) => e.textContent);
    check('hovering a latent shows its traversal', /traversal of z\d+/.test(caption), caption);
    await page.click('section.model[data-model="0"] button.sample');
    await waitFor(page, () => document.querySelectorAll('section.model[data-model="0"] .samples canvas').length >= 8, null, 'samples');
    check('prior samples appear', (await page.$$('section.model[data-model="0"] .samples canvas')).length === 8);
    await page.click('section.model[data-model="0"] button.dl-code');
    await page.click('section.model[data-model="0"] button.dl-image');
    let files = [];
    for (let i = 0; i < 100 && files.length < 2; i++) {
      await sleep(50);
      files = fs.readdirSync(downloads).filter((f) => !f.endsWith('.crdownload'));
    }
    result.downloads = files;
    const png = files.find((f) => f.endsWith('-image.png'));
    const json = files.find((f) => f.endsWith('-code.json'));
    check('image and code download', png && json &&
      fs.readFileSync(path.join(downloads, png)).subarray(1, 4).toString() === 'PNG' &&
      Array.isArray(JSON.parse(fs.readFileSync(path.join(downloads, json), 'utf8')).code), files);

    await page.mouse.move(5, 5);
    await sleep(200);
    await page.screenshot({ path: screenshot, fullPage: true });
    result.screenshot = screenshot;
    result.page_errors = await page.evaluate(() => window.dvaeExplorer.errors);
    check('no console errors', result.console_errors.length === 0, result.console_errors);
    check('nothing loaded from another origin', result.foreign_requests.length === 0, result.foreign_requests);
    check('no failed requests', result.failed_requests.length === 0, result.failed_requests);
  } finally {
    await browser.close();
  }
  result.ok = !result.failed;
}

run().catch((e) => { result.error = String(e.stack || e); }).finally(() => {
  console.log(JSON.stringify(result));
  process.exit(result.ok ? 0 : 1);
});
