/**
 * Runs every benchmark in turn, compiled (as production runs), each printing its own table and
 * writing bench/results/<name>.{json,md}. `npm run bench [-- args]` builds first.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const ALL = ['import', 'prefetch', 'send', 'fairness', 'stop', 'cancel', 'alerts', 'slack-ack'];
// `npm run bench -- send 2000` runs one benchmark with its own arguments.
const [first, ...rest] = process.argv.slice(2);
const chosen = first && ALL.includes(first) ? [first] : ALL;
const args = first && ALL.includes(first) ? rest : process.argv.slice(2);
let failed = 0;
for (const bench of chosen) {
  const result = spawnSync(process.execPath, [path.join(import.meta.dirname, `${bench}.js`), ...args], { stdio: 'inherit' });
  if (result.status !== 0) failed++;
}
process.exitCode = failed ? 1 : 0;
