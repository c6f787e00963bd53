/**
 * TypeDoc plugin (typedoc.json "plugin"). src/alloc and src/locks are being rewritten on another
 * branch, and their exports will get their doc comments there. Until then their "not documented"
 * and "referenced but not exported" warnings are counted and summarised in one line instead of
 * failing `npm run docs`, which stays strict (treatWarningsAsErrors) for every other export.
 *
 *   SAB_DOCS_ALL=1 npm run docs    lists every one of them (and fails, as it should)
 *
 * Delete this plugin, and its line in typedoc.json, once those directories are documented.
 */
import { Application } from 'typedoc';

const PENDING = /defined in [^,]*\/src\/(alloc|locks)\//;

export function load(app) {
  if (process.env.SAB_DOCS_ALL) return;
  const held = [];
  const warn = app.logger.validationWarning.bind(app.logger);
  app.logger.validationWarning = (message, ...rest) => {
    if (PENDING.test(String(message))) held.push(String(message));
    else warn(message, ...rest);
  };
  app.on(Application.EVENT_VALIDATE_PROJECT, () => {
    if (held.length > 0) {
      app.logger.info(`${held.length} exports of src/alloc and src/locks are not documented yet (their rewrite documents them); SAB_DOCS_ALL=1 npm run docs lists them`);
    }
  });
}
