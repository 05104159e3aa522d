// dvae explorer: the page's logic. Plain JavaScript, no library; every request
// goes to this server's JSON API (/api/models, /api/decode, /api/encode,
// /api/classify, /api/traversal). One panel per model: sliders in latent-KL
// order, the decoded image (redrawn while a slider moves: at most one decode in
// flight per model, later moves coalesced), the reconstruction of the last
// encoded input, the probe's class probabilities, a traversal strip, prior
// samples and downloads. window.dvaeExplorer exposes counters and the measured
// input-to-image latencies for the browser test (tests/browser/).
'use strict';

const kRange = 3;          // sliders span [-kRange, kRange]
const kSteps = 11;         // images in a traversal strip
const kSamples = 8;        // prior samples per click
const kView = 168;         // decoded/reconstruction canvas side (6 x 28)

const explorer = {
  ready: false, latencies: [], decodes: 0, encodes: 0, classifies: 0, traversals: 0, samples: 0, errors: [],
};
window.dvaeExplorer = explorer;

const state = { meta: null, panels: [], link: false };

function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') node.textContent = v;
    else if (k === 'className') node.className = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.appendChild(c);
  return node;
}

function report(error) {
  explorer.errors.push(String(error.message || error));
  document.getElementById('status').textContent = String(error.message || error);
  console.error(error);
}

async function api(name, body) {
  const init = body === undefined ? {} : {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  };
  const res = await fetch('/api/' + name, init);
  if (!res.ok) {
    let message = 'HTTP ' + res.status;
    try { message = (await res.json()).error; } catch (e) { /* not JSON */ }
    throw new Error('/api/' + name + ': ' + message);
  }
  const type = res.headers.get('Content-Type') || '';
  return type.startsWith('image/png') ? res.blob() : res.json();
}

function nextFrame() { return new Promise((resolve) => requestAnimationFrame(() => resolve())); }

// Draws a grey image {width, height, pixels} scaled onto canvas at (x, y, w, h).
function drawGrey(canvas, image, x = 0, y = 0, w = canvas.width, h = canvas.height) {
  const off = document.createElement('canvas');
  off.width = image.width;
  off.height = image.height;
  const octx = off.getContext('2d');
  const data = octx.createImageData(image.width, image.height);
  for (let i = 0; i < image.pixels.length; i++) {
    const v = image.pixels[i];
    data.data[4 * i] = v;
    data.data[4 * i + 1] = v;
    data.data[4 * i + 2] = v;
    data.data[4 * i + 3] = 255;
  }
  octx.putImageData(data, 0, 0);
  const ctx = canvas.getContext('2d');
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(off, x, y, w, h);
}

function download(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = el('a', { href: url, download: filename });
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

function gaussian() {  // Box-Muller
  const u = 1 - Math.random();
  const v = Math.random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

class Panel {
  constructor(index, model, root) {
    this.index = index;
    this.model = model;
    this.code = new Array(model.latent_dim).fill(0);
    this.hover = model.order[0];
    this.inFlight = false;
    this.dirty = false;
    this.pendingSince = null;
    this.classifyBusy = false;
    this.classifyAgain = false;
    this.traversalTimer = null;
    this.sliders = [];
    this.outputs = [];
    this.rows = [];
    this.build(root);
  }

  build(root) {
    const m = this.model;
    const subtitle = `${m.arch}, beta ${m.beta}, epoch ${m.epoch}, ${m.active_latents}/${m.latent_dim} active latents` +
      (m.test_elbo !== undefined ? `, test ELBO ${Number(m.test_elbo).toFixed(1)}` : '');
    const title = el('h2', {}, [document.createTextNode(m.name + ' '), el('small', { text: subtitle })]);
    const info = el('div', { className: 'classifier-info' });
    info.textContent = m.classifier
      ? `probe (${m.classifier.head}) on ${m.classifier.train_images} labelled images: ` +
        `${(100 * m.classifier.test_accuracy).toFixed(1)}% test accuracy`
      : 'no classifier (start dvae serve with --classifier probe:N)';
    this.decoded = el('canvas', { className: 'decoded', width: kView, height: kView });
    this.recon = el('canvas', { className: 'recon', width: kView, height: kView });
    this.prediction = el('div', { className: 'prediction' });
    const views = el('div', { className: 'views' }, [
      el('figure', {}, [this.decoded, el('figcaption', { text: 'decoded code' })]),
      el('figure', {}, [this.recon, el('figcaption', { text: 'reconstruction of the input' })]),
      this.prediction,
    ]);
    const sliders = el('div', { className: 'sliders' });
    const maxKl = Math.max(1e-9, ...m.kl_per_latent);
    for (const d of m.order) sliders.appendChild(this.buildRow(d, maxKl));
    this.traversalCaption = el('div', { className: 'caption' });
    this.strip = el('canvas', { className: 'strip', width: kSteps * 28, height: 28 });
    const traversal = el('div', { className: 'traversal' }, [this.traversalCaption, this.strip]);
    const button = (text, cls, fn) => {
      const b = el('button', { type: 'button', className: cls, text });
      b.addEventListener('click', fn);
      return b;
    };
    this.latency = el('span', { className: 'latency' });
    const actions = el('div', { className: 'actions' }, [
      button('Prior samples', 'sample', () => this.samplePrior()),
      button('Zero code', 'zero', () => { this.setCode(new Array(m.latent_dim).fill(0)); this.requestDecode(performance.now()); }),
      button('Download code', 'dl-code', () => this.downloadCode()),
      button('Download image', 'dl-image', () => this.downloadImage().catch(report)),
      this.latency,
    ]);
    this.samplesCaption = el('div', { className: 'samples-caption' });
    this.samples = el('div', { className: 'samples' });
    this.section = el('section', { className: 'model', 'data-model': String(this.index) },
      [title, info, views, sliders, traversal, actions, this.samplesCaption, this.samples]);
    root.appendChild(this.section);
    this.renderPrediction(null);
  }

  buildRow(d, maxKl) {
    const m = this.model;
    const kl = m.kl_per_latent[d];
    const slider = el('input', {
      type: 'range', min: -kRange, max: kRange, step: '0.05', value: '0', className: 'latent',
      'data-latent': String(d), 'aria-label': `z${d} of ${m.name}`,
    });
    const output = el('output', { text: '0.00' });
    const bar = el('i');
    bar.style.width = `${Math.max(1, Math.round(60 * kl / maxKl))}px`;
    const row = el('div', { className: 'slider-row' + (m.collapsed[d] ? ' collapsed' : ''), 'data-latent': String(d) }, [
      el('span', { text: `z${d}` }), slider, output,
      el('span', { className: 'kl', title: m.collapsed[d] ? 'collapsed: carries no information' : 'test KL (nats)' },
        [bar, document.createTextNode(`KL ${kl.toFixed(kl < 0.1 ? 3 : 2)}`)]),
    ]);
    slider.addEventListener('input', () => this.onSlider(d, Number(slider.value), performance.now()));
    row.addEventListener('mouseenter', () => this.setHover(d));
    slider.addEventListener('focus', () => this.setHover(d));
    this.sliders[d] = slider;
    this.outputs[d] = output;
    this.rows[d] = row;
    return row;
  }

  onSlider(d, value, t) {
    this.setLatent(d, value);
    this.setHover(d);
    this.requestDecode(t);
    if (!state.link) return;
    for (const other of state.panels) {
      if (other === this || d >= other.model.latent_dim) continue;
      other.setLatent(d, value);
      other.requestDecode(t);
    }
  }

  setLatent(d, value) {
    this.code[d] = value;
    this.sliders[d].value = String(Math.max(-kRange, Math.min(kRange, value)));
    this.outputs[d].textContent = value.toFixed(2);
  }

  setCode(code) {
    code.forEach((v, d) => this.setLatent(d, v));
  }

  setHover(d) {
    if (this.hover === d && this.traversalCaption.textContent) return;
    if (this.rows[this.hover]) this.rows[this.hover].classList.remove('hover');
    this.hover = d;
    this.rows[d].classList.add('hover');
    this.scheduleTraversal(0);
  }

  // At most one decode in flight; moves made meanwhile are sent together when it returns.
  requestDecode(t) {
    if (this.pendingSince === null) this.pendingSince = t;
    if (this.inFlight) {
      this.dirty = true;
      return Promise.resolve();
    }
    return this.sendDecode();
  }

  async sendDecode() {
    this.inFlight = true;
    this.dirty = false;
    const since = this.pendingSince;
    this.pendingSince = null;
    try {
      const r = await api('decode', { model: this.index, code: this.code });
      drawGrey(this.decoded, r.image);
      await nextFrame();
      const ms = performance.now() - since;
      explorer.latencies.push({ model: this.index, ms });
      explorer.decodes++;
      this.latency.textContent = `input to image ${ms.toFixed(1)} ms`;
    } catch (e) {
      report(e);
    }
    this.inFlight = false;
    if (this.dirty) return this.sendDecode();
    this.classify();
    this.scheduleTraversal(120);
    return undefined;
  }

  async classify() {
    if (!this.model.classifier) return;
    if (this.classifyBusy) { this.classifyAgain = true; return; }
    this.classifyBusy = true;
    this.classifyAgain = false;
    try {
      const r = await api('classify', { model: this.index, code: this.code });
      this.renderPrediction(r);
      explorer.classifies++;
    } catch (e) {
      report(e);
    }
    this.classifyBusy = false;
    if (this.classifyAgain) this.classify();
  }

  renderPrediction(r) {
    this.prediction.textContent = '';
    if (!this.model.classifier) return;
    if (!r) { this.prediction.appendChild(el('div', { className: 'verdict', text: 'prediction: -' })); return; }
    const names = state.meta.class_names;
    const p = r.probabilities[r.prediction];
    this.prediction.appendChild(el('div', { className: 'verdict', text: `prediction: ${r.class_name} (${(100 * p).toFixed(0)}%)` }));
    r.probabilities.forEach((q, c) => {
      const bar = el('i');
      bar.style.width = `${Math.round(120 * q)}px`;
      this.prediction.appendChild(el('div', { className: 'bar' + (c === r.prediction ? ' top' : ''), title: `${(100 * q).toFixed(1)}%` },
        [el('span', { text: names[c] }), bar]));
    });
  }

  scheduleTraversal(delay) {
    clearTimeout(this.traversalTimer);
    this.traversalTimer = setTimeout(() => this.traverse().catch(report), delay);
  }

  async traverse() {
    const d = this.hover;
    const r = await api('traversal', { model: this.index, code: this.code, latent: d, steps: kSteps, range: kRange });
    if (d !== this.hover) return;
    const side = 28;
    this.strip.width = kSteps * side;
    this.strip.height = side;
    r.images.forEach((image, i) => drawGrey(this.strip, image, i * side, 0, side, side));
    const kl = this.model.kl_per_latent[d];
    this.traversalCaption.textContent = `traversal of z${d} from -${kRange} to ${kRange} (KL ${kl.toFixed(3)}` +
      (this.model.collapsed[d] ? ', collapsed)' : ')') + ', other latents as set';
    explorer.traversals++;
  }

  async samplePrior() {
    const codes = [];
    for (let k = 0; k < kSamples; k++) codes.push(Array.from({ length: this.model.latent_dim }, gaussian));
    try {
      const r = await api('decode', { model: this.index, codes });
      this.samples.textContent = '';
      r.images.forEach((image, k) => {
        const c = el('canvas', { width: 56, height: 56, title: 'click: use this code' });
        drawGrey(c, image);
        c.addEventListener('click', () => { this.setCode(codes[k]); this.requestDecode(performance.now()); });
        this.samples.appendChild(c);
      });
      this.samplesCaption.textContent = `${kSamples} samples of z ~ N(0, I); click one to load its code`;
      explorer.samples++;
    } catch (e) {
      report(e);
    }
  }

  fileStem() { return this.model.name.replace(/[^A-Za-z0-9._-]+/g, '_'); }

  downloadCode() {
    const m = this.model;
    const text = JSON.stringify({ model: m.name, checkpoint: m.checkpoint, arch: m.arch, beta: m.beta,
      latent_dim: m.latent_dim, code: this.code }, null, 1);
    download(new Blob([text + '\n'], { type: 'application/json' }), `${this.fileStem()}-code.json`);
  }

  async downloadImage() {
    const blob = await api('decode', { model: this.index, code: this.code, format: 'png' });
    download(blob, `${this.fileStem()}-image.png`);
  }

  // The answer of /api/encode for this model: its posterior mean becomes the code.
  showEncoded(r) {
    this.setCode(r.mu);
    drawGrey(this.recon, r.reconstruction);
    drawGrey(this.decoded, r.reconstruction);
    if (r.probabilities) this.renderPrediction(r);
    this.scheduleTraversal(0);
  }
}

async function encodeAll(source) {
  const answers = await Promise.all(state.panels.map((p) => api('encode', Object.assign({ model: p.index }, source))));
  answers.forEach((r, i) => state.panels[i].showEncoded(r));
  drawGrey(document.getElementById('input-view'), answers[0].input);
  const label = document.getElementById('input-label');
  label.textContent = answers[0].label !== undefined
    ? `test image #${answers[0].test_index}, label ${answers[0].label_name}`
    : 'your drawing, as the encoders saw it';
  explorer.encodes++;
}

function setUpDrawing() {
  const canvas = document.getElementById('draw');
  const ctx = canvas.getContext('2d');
  const clear = () => { ctx.fillStyle = '#000'; ctx.fillRect(0, 0, canvas.width, canvas.height); };
  clear();
  let drawing = false;
  let last = null;
  const at = (e) => {
    const box = canvas.getBoundingClientRect();
    return { x: (e.clientX - box.left) * canvas.width / box.width, y: (e.clientY - box.top) * canvas.height / box.height };
  };
  const stroke = (a, b) => {
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = 16;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    ctx.moveTo(a.x, a.y);
    ctx.lineTo(b.x, b.y);
    ctx.stroke();
  };
  canvas.addEventListener('pointerdown', (e) => {
    drawing = true;
    canvas.setPointerCapture(e.pointerId);
    last = at(e);
    stroke(last, last);
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!drawing) return;
    const p = at(e);
    stroke(last, p);
    last = p;
  });
  const finish = () => {
    if (!drawing) return;
    drawing = false;
    const fit = document.getElementById('fit').checked;
    encodeAll({ png: canvas.toDataURL('image/png'), fit }).catch(report);
  };
  canvas.addEventListener('pointerup', finish);
  canvas.addEventListener('pointercancel', finish);
  document.getElementById('clear').addEventListener('click', clear);
}

function setUpTestPicker(count) {
  const input = document.getElementById('test-index');
  input.max = String(count - 1);
  const show = () => {
    const k = Math.max(0, Math.min(count - 1, Math.floor(Number(input.value) || 0)));
    input.value = String(k);
    encodeAll({ test_index: k }).catch(report);
  };
  document.getElementById('test-show').addEventListener('click', show);
  document.getElementById('test-random').addEventListener('click', () => {
    input.value = String(Math.floor(Math.random() * count));
    show();
  });
  input.addEventListener('keydown', (e) => { if (e.key === 'Enter') show(); });
}

async function main() {
  state.meta = await api('models');
  const meta = state.meta;
  document.getElementById('dataset').textContent =
    `${meta.models.length} model${meta.models.length > 1 ? 's' : ''} - test images from ${meta.dataset} (${meta.test_images})`;
  document.getElementById('collapsed-kl').textContent = String(meta.collapsed_kl);
  const root = document.getElementById('models');
  state.panels = meta.models.map((m, i) => new Panel(i, m, root));
  document.getElementById('link').addEventListener('change', (e) => { state.link = e.target.checked; });
  setUpDrawing();
  setUpTestPicker(meta.test_images);
  await Promise.all(state.panels.map((p) => p.requestDecode(performance.now())));
  explorer.ready = true;
}

main().catch(report);
