// `node --import ./scripts/record-loads.mjs …` with RECORD_LOADS_OUT=FILE: every module URL the
// process resolves is appended to FILE (see record-loads-hooks.mjs). Used by scripts/import-cost.mjs
// and by the packed-package test to prove what the library entry points load.
import { register } from 'node:module';

const out = process.env.RECORD_LOADS_OUT;
if (out) register('./record-loads-hooks.mjs', import.meta.url, { data: { out } });
