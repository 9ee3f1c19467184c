import { benchPostgres } from './bench/support.js';
import postgres from 'postgres';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createReadStream } from 'node:fs';
const pg = await benchPostgres();
const sql = postgres(pg.url, { onnotice: () => {} });
await sql`create table plain (email text, first_name text, last_name text, city text)`;
await sql`create table a1 (d text, c int, emails text[], fields json, primary key (d, c)) with (toast_tuple_target = 8160)`;
await sql`alter table a1 alter column emails set storage external, alter column fields set storage external`;
await sql`create table a3 (d text, c int, emails text, fields text, primary key (d, c)) with (toast_tuple_target = 8160)`;
await sql`alter table a3 alter column emails set storage external, alter column fields set storage external`;
const N = 100000, CH = Number(process.argv[2] ?? 100);
function gen(kind: 'arr' | 'text', dep: string) {
  let out = '';
  for (let c = 0; c < N / CH; c++) {
    const e: string[] = [], f: string[] = [];
    for (let i = 0; i < CH; i++) { const k = c * CH + i; e.push(kind === 'arr' ? `"user${k}@example${k%50}.com"` : `user${k}@example${k%50}.com`); f.push(`["First${k}","Last${k}","City${k%100}"]`); }
    out += kind === 'arr' ? `${dep}\t${c}\t{${e.join(',')}}\t[${f.join(',')}]\n` : `${dep}\t${c}\t${e.join('\\n')}\t${f.join('\\n')}\n`;
  }
  return out;
}
for (let k = 0; k < 4; k++) {
  let t0 = performance.now();
  let wr = await sql.unsafe(`copy plain from stdin with (format csv, header true)`).writable();
  await pipeline(createReadStream('/tmp/100k.csv'), wr);
  console.log('plain', (performance.now() - t0).toFixed(0));
  for (const [t, kind] of [['a1','arr'],['a3','text']] as const) {
  const text = gen(kind, 'd' + k);
  t0 = performance.now();
  wr = await sql.unsafe(`copy ${t} (d, c, emails, fields) from stdin`).writable();
  await pipeline(Readable.from([text]), wr);
  console.log(t, kind, CH, (performance.now() - t0).toFixed(0));
}}
await sql.end(); await pg.stop();
