/**
 * How to state a race rate honestly: events per trials with a 95% interval. Wilson's score interval
 * behaves at rates near zero, where the normal approximation gives negative bounds; with no events
 * at all the rule of three gives the one-sided 95% upper bound 3/n.
 */
import { count } from './format.js';

/** Events per trial with a 95% interval (Wilson), or the rule-of-three bound when none was seen. */
export interface Rate {
  events: number;
  trials: number;
  rate: number;
  /** 95% interval (Wilson); low is 0 and high the rule-of-three bound when events = 0. */
  low: number;
  high: number;
  method: 'wilson' | 'rule-of-three' | 'none';
}

const Z = 1.959963984540054;

/** The rate of `events` in `trials`, with its 95% interval. */
export function raceRate(events: number, trials: number): Rate {
  if (trials <= 0) return { events, trials, rate: 0, low: 0, high: 1, method: 'none' };
  const p = events / trials;
  if (events === 0) return { events, trials, rate: 0, low: 0, high: Math.min(1, 3 / trials), method: 'rule-of-three' };
  const z2 = Z * Z;
  const denom = 1 + z2 / trials;
  const centre = (p + z2 / (2 * trials)) / denom;
  const half = (Z * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials))) / denom;
  return { events, trials, rate: p, low: Math.max(0, centre - half), high: Math.min(1, centre + half), method: 'wilson' };
}

/** "12.3 per million (95% CI 8.1–17.9)" or "< 3.0 per million (95%, rule of three)". */
export function formatRate(r: Rate, perUnit = 1e6, unit = 'per million'): string {
  const f = (x: number): string => {
    const v = x * perUnit;
    return v >= 100 ? count(v) : Number(v.toPrecision(3)).toString();
  };
  if (r.method === 'none') return 'n/a';
  if (r.events === 0) return `< ${f(r.high)} ${unit} (95%, rule of three)`;
  return `${f(r.rate)} ${unit} (95% CI ${f(r.low)}–${f(r.high)})`;
}
