// comlink ships this adapter as an .mjs next to a .d.ts that TypeScript's NodeNext resolution does
// not pair with it; this restates its one export.
declare module 'comlink/dist/esm/node-adapter.mjs' {
  import type { Endpoint } from 'comlink';
  export default function nodeEndpoint(nep: unknown): Endpoint;
}
