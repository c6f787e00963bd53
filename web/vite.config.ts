/**
 * The live page (web/). `npm run web` serves it with Vite's dev server; `npm run web:build` writes a
 * static build to dist/web, and `npm run web:preview` serves that build. All three send the two
 * headers that make the page cross-origin isolated — without them a browser withholds
 * SharedArrayBuffer, and nothing here can run. Any other static server works if it sends them too:
 *
 *   Cross-Origin-Opener-Policy: same-origin
 *   Cross-Origin-Embedder-Policy: require-corp
 *
 * The page imports the library's sources (src/) directly; Vite bundles them and the worker entries
 * it finds in `new Worker(new URL(…), import.meta.url)`. No Node shims are configured, and none are
 * needed: what the page loads imports nothing from Node (test/neutral.test.ts).
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: './',
  server: { headers: ISOLATION_HEADERS, host: '127.0.0.1', port: 5173 },
  preview: { headers: ISOLATION_HEADERS, host: '127.0.0.1', port: 4173 },
  worker: { format: 'es' },
  // Pre-bundled at start: found later (in a worker's imports), Vite would re-optimise and reload
  // the page in the middle of a run.
  optimizeDeps: { include: ['comlink'] },
  build: { outDir: fileURLToPath(new URL('../dist/web', import.meta.url)), emptyOutDir: true, target: 'es2022' },
});
