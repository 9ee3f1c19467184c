/**
 * Patches postgres.js (3.4.x) after install so that a Postgres connection dying at the wrong
 * moment fails the query it was running instead of killing the whole process:
 *
 * - a write to a connection whose socket is already gone threw a TypeError from a timer, an
 *   uncaught exception (porsager/postgres#1208); now the query fails with CONNECTION_CLOSED and a
 *   late timer does nothing;
 * - the array-types fetch that starts every connection rejected a promise nobody held when the
 *   backend was terminated during it, an unhandled rejection (porsager/postgres#1192, #1223); now
 *   the connection simply closes and reconnects.
 *
 * Idempotent (a marker comment); fails loudly if postgres.js changed so the patch no longer fits.
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';

const MARKER = '/* campaign-guard: patched connection faults */';
const root = path.resolve(import.meta.dirname, '../node_modules/postgres');
if (!existsSync(root)) process.exit(0); // installed without dependencies: nothing to patch
const replacements = [
  [
    '  function execute(q) {\n    if (terminated)',
    '  function execute(q) {\n    if (!socket && !initial)\n      return queryError(q, Errors.connection(\'CONNECTION_CLOSED\', options))\n\n    if (terminated)',
  ],
  ['  function nextWrite(fn) {\n    const x = socket.write(chunk, fn)', '  function nextWrite(fn) {\n    if (!socket)\n      return (chunk = nextWriteTimer = null, false)\n    const x = socket.write(chunk, fn)'],
  ['        return fetchArrayTypes()\n', '        return fetchArrayTypes().catch(() => { /* the connection closes and reconnects */ })\n'],
];

for (const file of ['src/connection.js', 'cjs/src/connection.js']) {
  const target = path.join(root, file);
  if (!existsSync(target)) continue;
  let text = readFileSync(target, 'utf8');
  if (text.includes(MARKER)) continue;
  for (const [from, to] of replacements) {
    if (!text.includes(from)) {
      console.error(`patch-postgres: ${file} no longer contains the code to patch; check whether porsager/postgres fixed #1192/#1208 and update scripts/patch-postgres.mjs`);
      process.exit(1);
    }
    text = text.replace(from, to);
  }
  writeFileSync(target, `${MARKER}\n${text}`);
}
