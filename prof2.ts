import { createReadStream } from 'node:fs';
import { PassThrough } from 'node:stream';
import { readAudience } from './src/services/campaigns/audience-csv.js';
import { createChunkWriter } from './src/services/campaigns/audience-chunks.js';
for (let rep = 0; rep < 5; rep++) {
let t = performance.now(); let n = 0;
for await (const r of readAudience(createReadStream('/tmp/100k.csv', { highWaterMark: 256*1024 }), { deploymentCount: 1, onProblem() {} })) n += r.length;
const a = performance.now()-t;
t = performance.now(); n = 0;
const sink = new PassThrough(); sink.resume();
const w = createChunkWriter(sink, ['dep_x']);
for await (const r of readAudience(createReadStream('/tmp/100k.csv', { highWaterMark: 256*1024 }), { deploymentCount: 1, onProblem() {} })) { for (const row of r) w.add(0, row.email, row.valuesJson); await w.drain(); }
await w.finish();
console.log('readAudience', a.toFixed(0), 'readAudience+chunks', (performance.now()-t).toFixed(0));
}
