/** Runs every benchmark in turn; each prints its own table and writes bench/results/<name>.{json,md}. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const benches = ['import.ts'];
let failed = 0;
for (const bench of benches) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, bench), ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  if (result.status !== 0) failed++;
}
process.exitCode = failed ? 1 : 0;
