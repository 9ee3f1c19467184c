/**
 * Patches postgres.js (3.4.x) after install so that a Postgres connection dying at the wrong
 * moment fails the query it was running instead of killing the whole process:
 *
 * - a write to a connection whose socket is already gone threw a TypeError from a timer, an
 *   uncaught exception (porsager/postgres#1208); now the query fails with CONNECTION_CLOSED and a
 *   late timer does nothing;
 * - the array-types fetch that starts every connection rejected a promise nobody held when the
 *   backend was terminated during it, an unhandled rejection (porsager/postgres#1192, #1223); now
 *   the connection simply closes and reconnects;
 * - a transaction whose connection was reset went on sending its next queries to that connection
 *   object, which the pool had meanwhile reconnected for queries queued behind it: the stale query
 *   was never sent but stayed first in line, so the connection waited for its answer for good and
 *   the queries behind it never ended (a worker stalled, silently). Now a closed socket fails
 *   everything sent on it, whatever closed it; a query given to a connection with no socket fails
 *   at once (unless it is the one the connection is reconnecting for) without moving that
 *   connection out of the pool's `closed` queue (where it would never be reconnected).
 *
 * - a COPY FROM STDIN refused after the client ended it never finished its stream (the command
 *   waited for good, as `campaign create` did when the disk filled during an import); now the
 *   stream fails with Postgres's error.
 *
 * Idempotent (each change is skipped where it is already made); fails loudly if postgres.js changed so the patch no longer fits.
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';

const MARKER = '/* campaign-guard: patched connection faults */';
const root = path.resolve(import.meta.dirname, '../node_modules/postgres');
if (!existsSync(root)) process.exit(0); // installed without dependencies: nothing to patch
const replacements = [
  [
    '  function execute(q) {\n    if (terminated)',
    '  function execute(q) {\n    if (!socket && q !== initial)\n      return (queryError(q, Errors.connection(\'CONNECTION_CLOSED\', options)), true)\n\n    if (terminated)',
  ],
  ['  function nextWrite(fn) {\n    const x = socket.write(chunk, fn)', '  function nextWrite(fn) {\n    if (!socket)\n      return (chunk = nextWriteTimer = null, false)\n    const x = socket.write(chunk, fn)'],
  ['        return fetchArrayTypes()\n', '        return fetchArrayTypes().catch(() => { /* the connection closes and reconnects */ })\n'],
  [
    '    socket.removeAllListeners()\n    socket = null\n\n    if (initial)\n      return reconnect()\n',
    '    socket.removeAllListeners()\n    socket = null\n\n' +
      '    const lost = Errors.connection(\'CONNECTION_CLOSED\', options)\n' +
      '    stream && (stream.destroy(lost), stream = null)\n' +
      '    query && queryError(query, lost)\n' +
      '    while (sent.length)\n      queryError(sent.shift(), lost)\n' +
      '    query = null\n\n' +
      '    if (initial)\n      return reconnect()\n',
  ],
  // A COPY FROM STDIN that Postgres refuses after the client ended it (a full disk, a constraint
  // found at the end) left the stream's end waiting for good: the error reached a query that had
  // already resolved (with the stream), and the stream, already ended, was never told.
  ['  function errored(err) {\n    stream && (stream.destroy(err), stream = null)\n', '  function errored(err) {\n    stream && (stream.destroy(err), stream = null)\n    final && (final(err), final = null)\n'],
];

for (const file of ['src/connection.js', 'cjs/src/connection.js']) {
  const target = path.join(root, file);
  if (!existsSync(target)) continue;
  let text = readFileSync(target, 'utf8');
  for (const [from, to] of replacements) {
    if (text.includes(to)) continue; // patched by an earlier run
    if (!text.includes(from)) {
      console.error(`patch-postgres: ${file} no longer contains the code to patch; check whether porsager/postgres fixed #1192/#1208 and the reset-connection faults above, and update scripts/patch-postgres.mjs`);
      process.exit(1);
    }
    text = text.replace(from, to);
  }
  writeFileSync(target, text.includes(MARKER) ? text : `${MARKER}\n${text}`);
}
