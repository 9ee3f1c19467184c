import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * Runs the real CLI (`node --import tsx src/main.ts …`) as operators and scripts do, in a clean
 * environment: nothing from the developer's shell (DATABASE_URL, SLACK_*, …) leaks into a test.
 */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = path.join(PROJECT_ROOT, 'src', 'main.ts');

/** Every variable the configuration reads (DESIGN §6, src/config.ts): removed unless a test sets it. */
const CONFIG_VARIABLES = [
  'DATABASE_URL',
  'REDIS_URL',
  'REDIS_PREFIX',
  'SMTP_URL',
  'DATA_DIR',
  'LOG_LEVEL',
  'PORT',
  'HEALTH_PORT',
  'HOST',
  'SEND_CONCURRENCY',
  'SEND_RATE_PER_SECOND',
  'ALERT_MIN_SAMPLE',
  'ALERT_SUSTAIN_SECONDS',
  'AUTO_PAUSE_ON_CRITICAL',
  'PREFETCH_LEAD_SECONDS',
];
const CONFIG_PATTERNS = [/^SLACK_/, /_RATE_(WARN|CRITICAL)$/];

export type CliEnv = Record<string, string | undefined>;

export function cliEnvironment(env: CliEnv): NodeJS.ProcessEnv {
  const clean: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(clean)) {
    if (CONFIG_VARIABLES.includes(name) || CONFIG_PATTERNS.some((p) => p.test(name))) delete clean[name];
  }
  // Vitest's own loader hooks must not be inherited by the child.
  delete clean.NODE_OPTIONS;
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete clean[name];
    else clean[name] = value;
  }
  return clean;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** By file URL, so the CLI can run in any working directory. */
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/**
 * In the project root with no `.env` read (a developer's own must not leak in either), or in
 * `cwd`, reading the `.env` there as an operator's run would.
 */
function spawnCli(args: string[], env: CliEnv, cwd?: string): ChildProcess {
  return spawn(process.execPath, ['--import', TSX, MAIN, ...(cwd ? [] : ['--no-dotenv']), ...args], {
    cwd: cwd ?? PROJECT_ROOT,
    env: cliEnvironment(env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

export function runCli(args: string[], env: CliEnv, options: { input?: string; timeoutMs?: number; cwd?: string } = {}): Promise<CliResult> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const child = spawnCli(args, env, options.cwd);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdin!.on('error', () => undefined); // the command may exit before reading its input
    child.stdin!.end(options.input ?? '');
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`campaign-guard ${args.join(' ')} did not finish within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** The lines a command wrote to stderr, without Node's own deprecation warnings. */
export function stderrLines(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((line) => line.trim() !== '')
    .filter((line) => !/^\(node:\d+\) |^\(Use `node --trace-/.test(line));
}

/** A stack trace line, as Node prints them. */
export const STACK_LINE = /^\s{4}at /m;

const tempDirs: string[] = [];

/** A fresh directory (mode 0755: the embedded Postgres runs as `postgres` when we are root). */
export async function makeTempDir(prefix = 'cg-cli-'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  await chmod(dir, 0o755);
  tempDirs.push(dir);
  return dir;
}

export async function writeTempCsv(content: string | string[], name = 'recipients.csv'): Promise<string> {
  const dir = await makeTempDir('cg-csv-');
  const file = path.join(dir, name);
  await writeFile(file, Array.isArray(content) ? `${content.join('\n')}\n` : content);
  return file;
}

export async function removeTempDirs(): Promise<void> {
  for (const dir of tempDirs.splice(0)) await rm(dir, { recursive: true, force: true });
}

/** Polls until `url` answers 200 (or the deadline passes) and returns the last answer. */
export async function waitForHttp(
  url: string,
  options: { timeoutMs?: number; intervalMs?: number; isAlive?: () => boolean } = {},
): Promise<{ status: number; body: string }> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  let last: string;
  for (;;) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      const body = await response.text();
      if (response.status === 200) return { status: 200, body };
      last = `HTTP ${response.status}: ${body}`;
    } catch (error) {
      last = (error as Error).message;
    }
    if (options.isAlive && !options.isAlive()) throw new Error(`gave up on ${url}: the server exited (${last})`);
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 in time (${last})`);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 200));
  }
}

export interface ServeProcess {
  process: ChildProcess;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  running(): boolean;
  /** Sends `signal` and waits for the exit; SIGKILLs after `timeoutMs` and reports it. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; timedOut: boolean }>;
  output(): { stdout: string; stderr: string };
}

export function startServe(env: CliEnv, args: string[] = []): ServeProcess {
  const child = spawnCli(['serve', ...args], env);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin!.end();
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
  });
  return {
    process: child,
    exited,
    running: () => !done,
    async stop(signal = 'SIGTERM', timeoutMs = 30_000) {
      if (done) return { ...(await exited), timedOut: false };
      child.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      const outcome = await Promise.race([exited, timeout]);
      clearTimeout(timer);
      if (outcome !== 'timeout') return { ...outcome, timedOut: false };
      child.kill('SIGKILL');
      return { ...(await exited), timedOut: true };
    },
    output: () => ({ stdout, stderr }),
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function pidFrom(file: string): Promise<number | undefined> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  const pid = Number(text?.split('\n')[0]?.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** The embedded daemons under DATA_DIR that are still running, by the pid files they keep. */
export async function embeddedDaemons(dataDir: string): Promise<{ name: string; pid: number }[]> {
  const found: { name: string; pid: number }[] = [];
  const candidates = [
    { name: 'postgres', file: path.join(dataDir, 'postgres', 'postmaster.pid') },
    { name: 'redis-server', file: path.join(dataDir, 'redis', 'redis.pid') },
  ];
  for (const { name, file } of candidates) {
    const pid = await pidFrom(file);
    if (pid === undefined || !alive(pid)) continue;
    const comm = (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim();
    if (comm.startsWith(name)) found.push({ name, pid });
  }
  return found;
}

/** Stops whatever embedded Postgres / Redis a (possibly failed) test left running under DATA_DIR. */
export async function killEmbeddedDaemons(dataDir: string): Promise<void> {
  const daemons = await embeddedDaemons(dataDir);
  for (const { name, pid } of daemons) process.kill(pid, name === 'postgres' ? 'SIGINT' : 'SIGTERM');
  const deadline = Date.now() + 15_000;
  while (daemons.some(({ pid }) => alive(pid)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  for (const { pid } of daemons) if (alive(pid)) process.kill(pid, 'SIGKILL');
}
