/**
 * Text for a torture run: the start banner (every parameter and the seed), one stat line per
 * interval, and the closing report — fsck, verdict, the first violation, and the command that
 * replays the run. Kept apart from the CLI so tests and other front ends print the same thing.
 */
import type { StatSnapshot, TortureParams, TortureResult } from './runner.js';
import { formatRate } from './rates.js';
import { count as fmt } from './format.js';


/** A run's delay as --delay writes it ("spin:20us:0.2"), or "none". */
export function delayLabel(p: TortureParams): string {
  const d = p.delay;
  if (d === null) return 'none';
  const len = d.ns >= 1e6 ? `${d.ns / 1e6}ms` : d.ns >= 1e3 ? `${d.ns / 1e3}us` : `${d.ns}ns`;
  return `${d.kind}:${len}:${d.probability}${d.points ? ` at ${d.points.join(',')}` : ''}`;
}

/** The lines a torture run prints first: every parameter and the seed. */
export function banner(p: TortureParams): string[] {
  const budget = p.seconds !== null ? `${p.seconds} s` : `${fmt(p.ops)} allocations per worker`;
  return [
    `sab-alloc torture: ${p.workers} workers, allocator ${p.allocator}, fix ${p.fix}, cursor fix ${p.cursorFix ? 'on' : 'off'}, freelist lookup ${p.freelistLookup}`,
    `  device ${p.buckets} buckets × ${p.bucketSectors} sectors, ${p.openBuckets} open-bucket slots, discard ${p.discard ? 'on' : 'off'}`,
    `  workload ${p.streams} streams/worker, extents ≤ ${p.maxExtentSectors} sectors, put probability ${p.putProbability}; budget ${budget}`,
    `  schedule ${p.schedule}${p.schedule === 'pct' ? ` (depth ${p.depth}, k ≈ ${fmt(p.steps)})` : ''}${p.replay ? ' (replaying)' : ''}, delay ${delayLabel(p)}, kill ${p.kill ? 'on' : 'off'}${p.crash > 0 ? `, crash ${p.crash} (kills at random moments)` : ''}, expect ${p.expect ?? 'clean'}`,
    `  seed ${p.seed}`,
  ];
}

/** One stat line of a running torture: allocations, errors, fix interventions, skips. */
export function statLine(s: StatSnapshot): string {
  const bang = (n: number): string => (n > 0 ? `${fmt(n)} !!!` : '0');
  return [
    `[${s.elapsedS.toFixed(1).padStart(6)}s]`,
    `allocs ${fmt(s.allocations)} (${fmt(s.allocsPerSec)}/s)`,
    `per-worker min ${fmt(s.minWorker)} max ${fmt(s.maxWorker)}${s.unfair ? ' UNFAIR' : ''}`,
    `| duplicate allocations ${bang(s.duplicateAllocations)} commit errors ${bang(s.commitErrors)}`,
    `| reval ${fmt(s.revalidationRetries)} keylock ${fmt(s.keylockRefusals)}`,
    `| skipped open ${fmt(s.skippedOpen)} not-free ${fmt(s.skippedNotFree)} need-discard ${fmt(s.skippedNeedDiscard)}`,
  ].join(' ');
}

/** Shell-quotes one argument when it needs it. */
function q(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * The command line that reruns these parameters (with --replay for a controlled run). It gives only
 * flags the command uses in that combination: the CLI refuses the others (--freelist-lookup without
 * the freelist allocator; --depth and --steps beside --replay, whose string fixes every decision).
 */
export function replayCommand(r: TortureResult): string {
  const p = r.params;
  const replaying = r.schedule.string !== null;
  const args = [
    'sab-alloc', 'torture', '--workers', String(p.workers), '--allocator', p.allocator, '--fix', p.fix,
    ...(p.cursorFix ? ['--cursor-fix'] : []), ...(p.allocator === 'freelist' ? ['--freelist-lookup', p.freelistLookup] : []),
    ...(p.discard ? [] : ['--no-discard']),
    '--buckets', String(p.buckets), '--bucket-sectors', String(p.bucketSectors), '--open-buckets', String(p.openBuckets),
    ...(p.seconds !== null ? ['--seconds', String(p.seconds)] : ['--ops', String(p.ops)]),
    '--seed', String(p.seed), '--schedule', p.schedule,
    ...(p.schedule === 'pct' && !replaying ? ['--depth', String(p.depth), '--steps', String(p.steps)] : []),
    ...(p.delay !== null ? ['--delay', delayLabel(p).split(' at ')[0]!] : []),
    ...(p.delay?.points ? ['--delay-points', p.delay.points.join(',')] : []),
    ...(p.kill ? ['--kill'] : []),
    ...(p.crash > 0 ? ['--crash', String(p.crash)] : []),
    ...(r.schedule.string !== null ? ['--replay', r.schedule.string] : []),
  ];
  return args.map(q).join(' ');
}

/** The closing report of a torture run: counts, rates, fsck, the first violation, the verdict and the rerun command. */
export function summary(r: TortureResult): string[] {
  const out: string[] = [];
  const e = r.errors;
  out.push(`allocations ${fmt(r.allocations)} in ${(r.elapsedMs / 1000).toFixed(2)} s (${fmt(r.allocsPerSec)}/s), writes ${fmt(r.writes)}, frees ${fmt(r.frees)}, per worker ${r.perWorker.map(fmt).join(' / ')}`);
  const d = r.duplicates;
  out.push(`duplicate allocations (the oracle) ${fmt(d.count)}${d.count > 0 ? ' !!!' : ''}: race rate ${formatRate(r.raceRate)}`);
  if (d.count > 0) {
    const b = d.byConsequence;
    out.push(`  lost data ${fmt(d.lostData)}, corrupted metadata only ${fmt(d.metadataOnly)}, latent ${fmt(d.latent)}`
      + ` (overwrote live data ${fmt(b.overwrote)}, stale gen ${fmt(b.staleGen)}, into a bucket awaiting discard ${fmt(b.awaitingDiscard)}, mixed types ${fmt(b.mixedTypes)}, beside another allocation ${fmt(b.shared)})`);
  }
  const kinds = Object.entries(e).filter(([k]) => k !== 'total').map(([k, v]) => `${k} ${fmt(v)}`).join(', ');
  out.push(`commit errors ${fmt(e.total)}${e.total > 0 ? ' !!!' : ''}: ${kinds}; allocations whose writer saw one ${fmt(r.racyAllocations)}`);
  const c = r.stats.counters;
  out.push(`scan: ${fmt(c.bucketsSeen)} buckets seen, skipped open ${fmt(c.skippedOpen)}, not free ${fmt(c.skippedNotFree)}, need_discard ${fmt(c.skippedNeedDiscard)}; seqlock retries ${fmt(c.revalidationRetries)}, locked re-read refusals ${fmt(c.keylockRefusals)}`);
  if (r.schedule.kind !== 'free') {
    out.push(`schedule ${r.schedule.kind}: ${fmt(r.schedule.steps)} steps`);
    if (r.schedule.pct !== null) {
      const { n, k, d, bound } = r.schedule.pct;
      out.push(`  PCT n=${n} k=${fmt(k)} d=${d}: guaranteed hit probability per run ≥ 1/(n·k^(d−1)) = ${bound.toExponential(2)}; this run hit ${r.racyAllocations > 0 ? 'the race' : 'nothing'}`);
    }
    if (r.schedule.divergence !== null) out.push(`  NONDETERMINISM: replay left the recorded schedule at step ${r.schedule.divergence.step} of ${r.schedule.divergence.recordedSteps}`);
  }
  if (r.kill !== null) {
    const k = r.kill;
    if (!k.happened) out.push(`kill: worker ${k.worker} never reached ${k.point} #${k.pass} (run ended first)`);
    else {
      const f = k.inFlight;
      out.push(`kill: worker ${k.worker} terminated at ${k.point} #${k.pass}; its in-flight operation (op ${f?.lastOpId ?? '?'}, bucket ${f?.lastBucket ?? '?'}) is indeterminate; survivors finished`);
    }
  }
  if (r.crash !== null) {
    const ev = r.crash.events;
    const inside = ev.filter((e) => e.at.update !== null).length;
    const holding = ev.filter((e) => e.at.locksHeld > 0).length;
    const by = (o: string): number => ev.filter((e) => e.inFlight.outcome === o).length;
    const h = r.crash.history;
    out.push(`crash: ${fmt(ev.length)} worker(s) killed at random moments: ${fmt(holding)} holding a lock, ${fmt(inside)} inside an update (its intent record published); each recovered and replaced (median ${fmt(median(ev.map((e) => e.replacedInMs)))} ms)`);
    out.push(`  in flight at the kill: frees that happened ${fmt(by('happened'))}, did not ${fmt(by('did not happen'))}; writes that happened ${fmt(h.indeterminateWrites.happened)}, did not ${fmt(h.indeterminateWrites.didNotHappen)}`);
    out.push(`  history: ${fmt(h.acknowledged)} acknowledged extents ${h.ok ? 'all in place, and no live extent nobody acknowledged' : `— ${[...h.lost, ...h.phantoms].slice(0, 3).join('; ')} !!!`}`);
  }
  out.push(`fsck: ${r.fsck.ok ? 'clean' : `${fmt(r.fsck.errorCount)} violation(s): ${Object.entries(r.fsck.byKind).map(([k, v]) => `${k} ${v}`).join(', ')}`}${r.fsck.inFlightExtents > 0 ? `; ${r.fsck.inFlightExtents} extent(s) in flight (uncommitted)` : ''}`);
  for (const f of r.fsck.first.slice(0, 3)) out.push(`  ${f.kind}: ${f.message}`);
  const v = r.firstViolation;
  if (v !== null) {
    out.push(`first violation: ${v.kinds.join(' + ')} in bucket ${v.bucket}: writer ${v.writer} (op ${v.opId}) vs writer ${v.otherWriter} (op ${v.otherOpId})`);
    out.push(`  worker ${v.writer}'s last race points: ${v.recent.map((p) => `${p.point}@${p.bucket}#${p.opId}`).join(' → ') || 'none recorded'}`);
    if (v.other !== null) out.push(`  worker ${v.other.worker} was at ${v.other.lastPoint ?? 'its start'} (bucket ${v.other.lastBucket}, op ${v.other.lastOpId})`);
  }
  if (r.stall !== null) {
    out.push(`stall: ${r.stall.turn ?? 'no progress'}`);
    for (const pos of r.stall.positions) out.push(`  worker ${pos.worker}: last at ${pos.lastPoint ?? 'its start'} (bucket ${pos.lastBucket}, op ${pos.lastOpId}), ${fmt(pos.ops)} allocations${pos.parkedOnRule >= 0 ? `, parked on rule ${pos.parkedOnRule}` : ''}`);
  }
  for (const w of r.workerErrors) out.push(`worker error: ${w}`);
  out.push(`${r.verdict}: ${r.reason}`);
  if (r.params.schedule === 'free') out.push(`rerun (free runs do not replay step for step; use --schedule pct for that): ${replayCommand(r)}`);
  else out.push(`replay: ${replayCommand(r)}`);
  return out;
}

function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
