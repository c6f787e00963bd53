/**
 * An allocation request, validated before anything shared is touched: a plain object of known keys
 * (`undefined` = the default), names looked up by own property only, so "toString", "constructor"
 * or "__proto__" are unknown names, not members of Object.prototype.
 */
import { checkInt, ConfigError, readOptions } from '../shared/validate.js';
import { WATERMARKS, WATERMARK_CODES, WRITE_TYPES, WRITE_TYPE_CODES, type Watermark, type WriteType } from './types.js';
import { WRITER_MAX } from './commit.js';

/** What `allocBucket` is asked for; every field optional. */
export interface AllocRequest {
  /** What will be written: 'user' (default), 'btree' or 'cached'. */
  dataType?: WriteType;
  /** How much of the open-bucket reserve the allocation may use: 'normal' (default), 'btree', 'reclaim'. */
  watermark?: Watermark;
  /** Who is allocating (a writer id in [0, 2^30 − 1]); defaults to this thread's member number. */
  writer?: number;
}

export interface ValidRequest {
  dataType: WriteType;
  dataTypeCode: number;
  watermark: number;
  writer: number;
}

const KNOWN = ['dataType', 'watermark', 'writer'];

/** The request `allocBucket()` makes with no argument, per default writer (made once). */
const defaults = new Map<number, ValidRequest>();

export function validateRequest(request: unknown, defaultWriter: number): ValidRequest {
  if (request === undefined) {
    let d = defaults.get(defaultWriter);
    if (d === undefined) defaults.set(defaultWriter, d = Object.freeze({ dataType: 'user', dataTypeCode: 2, watermark: 0, writer: defaultWriter }));
    return d;
  }
  const r = readOptions<AllocRequest>('request', request, KNOWN);
  const dataType = r.dataType ?? 'user';
  const dataTypeCode = WRITE_TYPE_CODES.get(dataType);
  if (dataTypeCode === undefined) throw new ConfigError('dataType', `must be one of ${WRITE_TYPES.join(', ')}, got ${show(dataType)}`);
  const wm = r.watermark ?? 'normal';
  const watermark = WATERMARK_CODES.get(wm);
  if (watermark === undefined) throw new ConfigError('watermark', `must be one of ${WATERMARKS.join(', ')}, got ${show(wm)}`);
  const writer = r.writer === undefined ? defaultWriter : checkInt('writer', r.writer, 0, WRITER_MAX);
  return { dataType: dataType as WriteType, dataTypeCode, watermark, writer };
}

function show(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}
