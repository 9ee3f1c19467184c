/**
 * Runs every benchmark in turn, compiled (as production runs), each printing its own table and
 * writing bench/results/<name>.{json,md}. `npm run bench [-- args]` builds first.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const benches = ['import.js'];
let failed = 0;
for (const bench of benches) {
  const result = spawnSync(process.execPath, [path.join(import.meta.dirname, bench), ...process.argv.slice(2)], { stdio: 'inherit' });
  if (result.status !== 0) failed++;
}
process.exitCode = failed ? 1 : 0;
