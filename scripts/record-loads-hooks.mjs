// Module customization hooks (node:module register) that append every URL the loader resolves to
// a file, one per line. Synchronous appends: the hooks run on their own thread, and a message sent
// from there could still be in flight when the main thread exits.
import { appendFileSync } from 'node:fs';

let out = null;

export function initialize(data) {
  out = data.out;
}

export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (out !== null) appendFileSync(out, `${r.url}\n`);
  return r;
}
