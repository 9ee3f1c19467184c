/**
 * A one-line progress display for long work on a terminal (CSV import). Off when stderr is not a
 * TTY, so scripts and CI logs get no control characters.
 */
export function createProgress(label: string, stream: NodeJS.WriteStream = process.stderr) {
  const enabled = Boolean(stream.isTTY);
  const started = Date.now();
  let last = 0;
  const render = (done: number, fraction: number | undefined, final: boolean) => {
    const now = Date.now();
    if (!enabled || (!final && now - last < 100)) return;
    last = now;
    const seconds = Math.max((now - started) / 1000, 0.001);
    const rate = Math.round(done / seconds).toLocaleString('en-US');
    const width = 24;
    const bar =
      fraction === undefined ? '' : `[${'#'.repeat(Math.round(fraction * width)).padEnd(width, '.')}] ${Math.floor(fraction * 100)}% `;
    stream.write(`\r${label} ${bar}${done.toLocaleString('en-US')} rows, ${rate} rows/s${final ? '\n' : ''}`);
  };
  return {
    update: (done: number, fraction?: number) => render(done, fraction, false),
    finish: (done: number) => render(done, 1, true),
  };
}
