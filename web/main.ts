/**
 * The live page: the allocator race in Web Workers, watched from the main thread. The main thread
 * never blocks (the browser forbids it): it reads shared counters and bucket states with
 * Atomics.load once a frame, and everything else it waits for is a promise.
 *
 * Elements the page test reads: #status[data-state] (idle, starting, running, stopped, error),
 * #allocations[data-value], #duplicates[data-value], body[data-isolated], and each timeline's
 * [data-duplicates].
 */
import { webWorkers } from '../src/shared/pool-web.js';
import { AllocRace, type AllocRaceOptions } from '../src/browser/alloc-race.js';
import { BUCKET_STATES, BucketCode } from '../src/browser/bucket-states.js';
import { reproduceInBrowser, type BrowserReproduceResult } from '../src/browser/reproduce.js';
import { formatRate } from '../src/torture/rates.js';
import type { DelayPolicy } from '../src/race/control.js';

const allocWorkers = webWorkers(() => new Worker(new URL('../src/browser/alloc-race-worker.ts', import.meta.url), { type: 'module' }));
const reproduceWorkers = webWorkers(() => new Worker(new URL('../src/browser/reproduce-worker.ts', import.meta.url), { type: 'module' }));

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;

const COLORS: Record<(typeof BUCKET_STATES)[number], string> = {
  free: '#e8ecef', open: '#f2b134', user: '#4a90d9', btree: '#7b5ea7', need_discard: '#9aa5ad', cached: '#7fc8a9',
};
const DUP = '#e0245e';

// ------------------------------------------------------------------------------------------------
// Cross-origin isolation: without it there is no SharedArrayBuffer, and nothing below can run.

const isolated = globalThis.crossOriginIsolated === true && typeof SharedArrayBuffer === 'function';
document.body.dataset.isolated = String(isolated);
if (!isolated) {
  const b = $('isolation');
  b.hidden = false;
  b.innerHTML = '<strong>This page is not cross-origin isolated</strong>, so the browser withholds SharedArrayBuffer and the allocator cannot run. '
    + 'Serve it with the headers <code>Cross-Origin-Opener-Policy: same-origin</code> and <code>Cross-Origin-Embedder-Policy: require-corp</code>: '
    + '<code>npm run web</code> does (dev server), and so does <code>npm run web:build</code> then <code>npm run web:preview</code>; '
    + 'any other static server must send both headers for every file.';
  for (const el of document.querySelectorAll<HTMLButtonElement | HTMLSelectElement | HTMLInputElement>('button, select, input')) el.disabled = true;
}

// ------------------------------------------------------------------------------------------------
// Controls

function options(): AllocRaceOptions {
  return {
    allocator: $<HTMLSelectElement>('allocator').value as AllocRaceOptions['allocator'],
    fix: $<HTMLSelectElement>('fix').value as AllocRaceOptions['fix'],
    cursorFix: $<HTMLInputElement>('cursorFix').checked,
    freelistLookup: $<HTMLSelectElement>('freelistLookup').value as AllocRaceOptions['freelistLookup'],
    workers: Number($<HTMLInputElement>('workers').value),
    buckets: Number($<HTMLSelectElement>('buckets').value),
    delay: delay(),
  };
}

function delay(): DelayPolicy | null {
  const ns = Number($<HTMLSelectElement>('delay').value);
  if (ns === 0) return null;
  return ns >= 100_000 ? { kind: 'sleep', ns, probability: 0.05 } : { kind: 'spin', ns, probability: 0.5 };
}

function label(o: AllocRaceOptions): string {
  const parts = o.allocator === 'freelist' ? [`freelist/${o.freelistLookup}`] : [`early/${o.fix}`];
  if (o.cursorFix) parts.push('+cursor');
  return `${parts.join('')}, ${o.workers} workers, ${o.buckets} buckets`;
}

// ------------------------------------------------------------------------------------------------
// The run

let run: AllocRace | null = null;
let starting: Promise<void> | null = null;
let generation = 0;
const states = { codes: new Uint8Array(0), flashUntil: new Float64Array(0), seen: new Int32Array(0) };

/** Duplicates per second, across runs; a run boundary is a marker, so a fix switched on shows as a drop to zero. */
const history: { t: number; dups: number; boundary: string | null }[] = [];
/** A bar every half second, the last 30 seconds: wide enough bars to see a drop to zero. */
const HISTORY_SAMPLE_MS = 500;
const HISTORY_SLOTS = 60;
let lastSample = { t: 0, dups: 0 };

function setStatus(state: string, text = state): void {
  const s = $('status');
  s.dataset.state = state;
  s.textContent = text;
}

async function start(): Promise<void> {
  if (!isolated) return;
  const mine = ++generation;
  await stop();
  const o = options();
  setStatus('starting', 'starting workers…');
  $<HTMLButtonElement>('stop').disabled = false;
  try {
    const r = await AllocRace.start(allocWorkers, o);
    if (mine !== generation) {
      await r.stop();
      return;
    }
    run = r;
    const n = r.params.buckets;
    states.codes = new Uint8Array(n);
    states.flashUntil = new Float64Array(n);
    states.seen = new Int32Array(n);
    lastSample = { t: performance.now(), dups: 0 };
    history.push({ t: performance.now(), dups: 0, boundary: label(o) });
    $('config').textContent = label(o);
    setStatus('running');
    void r.done.then(() => { if (run === r) setStatus('finished'); });
  } catch (e) {
    setStatus('error', `error: ${(e as Error).message}`);
  }
}

async function stop(): Promise<void> {
  const r = run;
  run = null;
  if (r === null) return;
  draw(r);
  const result = await r.stop();
  setStatus('stopped', `stopped — fsck ${result.fsck.ok ? 'clean' : `found ${result.fsck.errors.length} problem(s)`}`);
  $<HTMLButtonElement>('stop').disabled = true;
}

function runStarter(): void {
  starting = (starting ?? Promise.resolve()).then(start, start);
}

$('run').addEventListener('click', runStarter);
$('stop').addEventListener('click', () => { generation++; void stop(); });
for (const id of ['allocator', 'fix', 'cursorFix', 'freelistLookup', 'buckets']) {
  $(id).addEventListener('change', () => { if (run !== null) runStarter(); });
}
$('workers').addEventListener('input', () => { $('workersOut').textContent = $<HTMLInputElement>('workers').value; });
$('workers').addEventListener('change', () => { if (run !== null) runStarter(); });
$('delay').addEventListener('change', () => run?.setDelay(delay()));

// ------------------------------------------------------------------------------------------------
// Drawing, once a frame

const fmt = new Intl.NumberFormat('en');

function draw(r: AllocRace): void {
  const s = r.snapshot();
  const now = performance.now();
  $('allocations').dataset.value = String(s.allocations);
  $('allocations').textContent = fmt.format(s.allocations);
  $('duplicates').dataset.value = String(s.duplicates);
  $('duplicates').textContent = fmt.format(s.duplicates);
  $('duplicates').classList.toggle('bad', s.duplicates > 0);
  $('rate').textContent = formatRate(s.rate);
  $('throughput').textContent = `${fmt.format(Math.round(s.allocsPerSec))} allocations/s`;
  $('errors').dataset.value = String(s.commitErrors);
  $('errors').textContent = fmt.format(s.commitErrors);
  $('fixwork').textContent = `${fmt.format(s.revalidationRetries)} seqlock re-checks failed, ${fmt.format(s.keylockRefusals)} key-lock refusals`;
  $('perWorker').textContent = s.perWorker.map((n) => fmt.format(n)).join(' · ');
  $('elapsed').textContent = `${(s.elapsedMs / 1000).toFixed(1)} s`;
  if (now - lastSample.t >= HISTORY_SAMPLE_MS) {
    history.push({ t: now, dups: ((s.duplicates - lastSample.dups) * 1000) / (now - lastSample.t), boundary: null });
    if (history.length > HISTORY_SLOTS) history.splice(0, history.length - HISTORY_SLOTS);
    lastSample = { t: now, dups: s.duplicates };
  }
  r.bucketStates(states.codes);
  for (let b = 0; b < states.codes.length; b++) {
    const m = Atomics.load(r.marks, b);
    if (m > states.seen[b]!) {
      states.seen[b] = m;
      states.flashUntil[b] = now + 1200;
    }
  }
  drawMap(now);
  drawHistory();
}

/** Keeps a canvas's drawing size equal to its laid-out size, so cells stay square and sharp. */
function fit(canvas: HTMLCanvasElement, aspect: number | null, height?: number): void {
  const w = Math.max(100, Math.round(canvas.clientWidth));
  const h = aspect !== null ? Math.round(w * aspect) : height!;
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
}

function drawMap(now: number): void {
  const canvas = $<HTMLCanvasElement>('buckets-canvas');
  fit(canvas, 0.62);
  const ctx = canvas.getContext('2d')!;
  const n = states.codes.length;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (n === 0) return;
  const cols = Math.ceil(Math.sqrt((n * canvas.width) / canvas.height));
  const rows = Math.ceil(n / cols);
  const size = Math.floor(Math.min(canvas.width / cols, canvas.height / rows));
  const gap = size >= 6 ? 1 : 0;
  for (let b = 0; b < n; b++) {
    const x = (b % cols) * size;
    const y = Math.floor(b / cols) * size;
    ctx.fillStyle = COLORS[BUCKET_STATES[states.codes[b]!]!];
    ctx.fillRect(x, y, size - gap, size - gap);
    if (states.seen[b]! > 0) {
      // Allocated twice at least once: marked for good; flashing for a moment after each new one.
      const flash = states.flashUntil[b]! > now && Math.floor(now / 120) % 2 === 0;
      ctx.strokeStyle = flash ? '#000' : DUP;
      ctx.lineWidth = Math.max(1, Math.floor(size / 5));
      ctx.strokeRect(x + ctx.lineWidth / 2, y + ctx.lineWidth / 2, size - gap - ctx.lineWidth, size - gap - ctx.lineWidth);
      if (flash) {
        ctx.fillStyle = DUP;
        ctx.fillRect(x, y, size - gap, size - gap);
      }
    }
  }
}

function drawHistory(): void {
  const canvas = $<HTMLCanvasElement>('history');
  fit(canvas, null, 90);
  const ctx = canvas.getContext('2d')!;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const max = Math.max(1, ...history.map((h) => h.dups));
  const w = canvas.width / HISTORY_SLOTS;
  ctx.font = '10px system-ui, sans-serif';
  let line = 0;
  let lastLabelX = -Infinity;
  history.forEach((h, i) => {
    const x = i * w;
    if (h.boundary !== null) {
      // Runs shorter than a label's width get their label one line lower, so none overlaps.
      line = x - lastLabelX < 80 ? (line + 1) % 3 : 0;
      lastLabelX = x;
      ctx.fillStyle = '#555';
      ctx.fillRect(x, 0, 1, canvas.height);
      ctx.fillText(h.boundary.split(',')[0]!, x + 3, 10 + line * 11);
      return;
    }
    const hgt = (h.dups / max) * (canvas.height - 36);
    ctx.fillStyle = h.dups > 0 ? DUP : '#3a3';
    ctx.fillRect(x, canvas.height - Math.max(1, hgt), Math.max(1, w - 1), Math.max(1, hgt));
  });
}

function frame(): void {
  if (run !== null) draw(run);
  else drawMap(performance.now());
  requestAnimationFrame(frame);
}

// ------------------------------------------------------------------------------------------------
// Legend

$('legend').innerHTML = BUCKET_STATES.map((s) => `<li><i style="background:${COLORS[s]}"></i>${s.replace('_', ' ')}</li>`).join('')
  + `<li><i class="dup" style="border-color:${DUP}"></i>allocated twice (duplicate; flashes when it happens)</li>`;
void BucketCode;

// ------------------------------------------------------------------------------------------------
// The reported interleaving, for each configuration

const TIMELINE_CONFIGS = [
  { name: 'early / none', config: { allocator: 'early', fix: 'none' } },
  { name: 'early / none + cursor fix', config: { allocator: 'early', fix: 'none', cursorFix: true } },
  { name: 'early / seqlock', config: { allocator: 'early', fix: 'seqlock' } },
  { name: 'early / keylock', config: { allocator: 'early', fix: 'keylock' } },
  { name: 'freelist / locked', config: { allocator: 'freelist', freelistLookup: 'locked' } },
  { name: 'freelist / unlocked', config: { allocator: 'freelist', freelistLookup: 'unlocked' } },
] as const;

const timelines: (BrowserReproduceResult | Error | null)[] = TIMELINE_CONFIGS.map(() => null);
let shown = 0;

function renderTabs(): void {
  $('timelineTabs').innerHTML = TIMELINE_CONFIGS.map((c, i) => {
    const r = timelines[i];
    const mark = r === null ? '…' : r instanceof Error ? '!' : r.duplicateAllocations > 0 ? '✗ duplicate' : '✓ clean';
    return `<button data-i="${i}" class="${i === shown ? 'on' : ''} ${r !== null && !(r instanceof Error) && r.duplicateAllocations > 0 ? 'racy' : ''}">${c.name} <small>${mark}</small></button>`;
  }).join('');
  for (const b of $('timelineTabs').querySelectorAll('button')) {
    b.addEventListener('click', () => { shown = Number(b.dataset.i); renderTabs(); renderTimeline(); });
  }
}

function esc(s: string): string {
  return s.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!);
}

function renderTimeline(): void {
  const r = timelines[shown];
  const body = $('timelineBody');
  if (r === null || r === undefined) {
    body.innerHTML = '<p class="hint">running…</p>';
    return;
  }
  if (r instanceof Error) {
    body.innerHTML = `<p class="bad">${esc(r.message)}</p>`;
    return;
  }
  const rows = r.steps.map((s, i) => {
    const badge = `<span class="badge ${s.state}" style="background:${COLORS[s.state]}">${s.state.replace('_', ' ')}</span>`;
    const text = esc(s.text.replace(/^Task [12]\s+/, ''));
    const dup = s.duplicate ? ' <strong class="bad">allocated twice: opened while holding another allocation\'s data</strong>' : '';
    const cell = `<div class="step ${s.duplicate ? 'twice' : ''}">${text}<br>bucket K: ${badge} <small>${s.dirtySectors} dirty sectors</small>${dup}</div>`;
    return `<tr><td class="n">${i + 1}</td><td>${s.task === 0 ? cell : ''}</td><td>${s.task === 1 ? cell : ''}</td></tr>`;
  }).join('');
  const verdict = r.duplicateAllocations > 0
    ? `<p class="verdict bad">Duplicate allocation: both tasks hold bucket ${r.tasks[0].bucket} (errors: ${esc(r.errors.join(', '))}). fsck ${r.fsckOk ? 'clean' : 'finds the damage'}.</p>`
    : `<p class="verdict good">No duplicate: Task 1 got bucket ${r.tasks[0].bucket}, Task 2 bucket ${r.tasks[1].bucket}; fsck ${r.fsckOk ? 'clean' : 'not clean'}.</p>`;
  body.innerHTML = `<div data-duplicates="${r.duplicateAllocations}">${verdict}<table class="lanes"><thead><tr><th>#</th><th>Task 1</th><th>Task 2</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

async function runTimelines(): Promise<void> {
  renderTabs();
  renderTimeline();
  for (let i = 0; i < TIMELINE_CONFIGS.length; i++) {
    try {
      timelines[i] = await reproduceInBrowser(reproduceWorkers, TIMELINE_CONFIGS[i]!.config);
    } catch (e) {
      timelines[i] = e as Error;
    }
    renderTabs();
    if (i === shown) renderTimeline();
  }
  document.body.dataset.timelines = 'done';
}

if (isolated) {
  requestAnimationFrame(frame);
  void runTimelines();
}
