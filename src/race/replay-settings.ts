/**
 * A controlled run's schedule string carries the settings the run was made with, so that a replay
 * made with other settings is refused up front, naming what differs, instead of running and then
 * being reported as nondeterminism (a replay follows the recorded decisions only as long as every
 * worker does the same work, and the work depends on all of these settings).
 *
 *   sab2.<settings>.<workers>.<steps>.<decisions>
 *
 * <settings> is base64url of a JSON array: the format number of the list (1) and then the value of
 * each REPLAY_SETTINGS key in order. The rest is the scheduler's own "sab1" string without its tag
 * (scheduler.ts). A "sab1" string from before settings were recorded still replays; it cannot be
 * checked, and a divergence says so.
 */
import { ConfigError } from '../shared/validate.js';

/** The settings a controlled run's work depends on, in the order the string stores them. */
export const REPLAY_SETTINGS = [
  'workers', 'allocator', 'fix', 'cursorFix', 'freelistLookup', 'discard', 'buckets', 'bucketSectors', 'openBuckets',
  'ops', 'seed', 'streams', 'maxExtentSectors', 'putProbability', 'kill',
] as const;
export type ReplaySetting = (typeof REPLAY_SETTINGS)[number];
export type ReplaySettings = Record<ReplaySetting, unknown>;

const SETTINGS_FORMAT = 1;

/** One setting whose value differs between the recorded run and this one. */
export interface SettingDifference {
  setting: ReplaySetting;
  recorded: unknown;
  given: unknown;
}

/** A replay's settings differ from the recorded run's: the replay would not follow the schedule. */
export class ReplayMismatchError extends ConfigError {
  readonly differences: readonly SettingDifference[];
  constructor(differences: readonly SettingDifference[]) {
    super('replay', `this schedule was recorded with other settings: ${differences.map((d) => `${d.setting} ${JSON.stringify(d.recorded)} (this run: ${JSON.stringify(d.given)})`).join(', ')}; rerun with the recorded settings`);
    this.name = 'ReplayMismatchError';
    this.differences = differences;
  }
}

/** The replay-relevant settings of a run's parameters. */
export function replaySettings(params: Readonly<Record<ReplaySetting, unknown>>): ReplaySettings {
  return Object.fromEntries(REPLAY_SETTINGS.map((k) => [k, params[k]])) as ReplaySettings;
}

/** Adds the settings to a scheduler's "sab1.…" string. */
export function sealSchedule(sab1: string, settings: ReplaySettings): string {
  if (!sab1.startsWith('sab1.')) throw new ConfigError('schedule', `expected a "sab1." schedule string, got ${JSON.stringify(sab1.slice(0, 12))}`);
  const token = Buffer.from(JSON.stringify([SETTINGS_FORMAT, ...REPLAY_SETTINGS.map((k) => settings[k])])).toString('base64url');
  return `sab2.${token}.${sab1.slice('sab1.'.length)}`;
}

/**
 * Splits a replay string into the scheduler's "sab1" string and the recorded settings (null for an
 * old "sab1" string). Throws a ConfigError on `replay` for anything else.
 */
export function openSchedule(text: string): { schedule: string; settings: ReplaySettings | null } {
  const s = String(text).trim();
  if (s.startsWith('sab1.')) return { schedule: s, settings: null };
  const m = /^sab2\.([A-Za-z0-9_-]+)\.(.*)$/.exec(s);
  if (m === null) {
    throw new ConfigError('replay', 'is not a schedule string (expected "sab2.<settings>.<workers>.<steps>.<data>" as printed by a controlled run)');
  }
  let values: unknown;
  try {
    values = JSON.parse(Buffer.from(m[1]!, 'base64url').toString('utf8'));
  } catch {
    throw new ConfigError('replay', 'the settings part of the schedule string is corrupt (truncated or altered)');
  }
  if (!Array.isArray(values) || values[0] !== SETTINGS_FORMAT || values.length !== REPLAY_SETTINGS.length + 1) {
    throw new ConfigError('replay', 'the settings part of the schedule string is not one this version can read');
  }
  const settings = Object.fromEntries(REPLAY_SETTINGS.map((k, i) => [k, values[i + 1]])) as ReplaySettings;
  return { schedule: `sab1.${m[2]}`, settings };
}

/** The settings that differ (JSON equality: they are numbers, strings and booleans). */
export function diffSettings(recorded: ReplaySettings, given: ReplaySettings): SettingDifference[] {
  return REPLAY_SETTINGS
    .filter((k) => JSON.stringify(recorded[k]) !== JSON.stringify(given[k]))
    .map((k) => ({ setting: k, recorded: recorded[k], given: given[k] }));
}
