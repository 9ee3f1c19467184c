/**
 * The soak (not in CI): sends, cancels, provider webhooks and Slack clicks together for N minutes
 * against the real app (HTTP, Postgres, Redis, BullMQ), a second worker process that is SIGKILLed
 * and restarted now and then, an SMTP sink with faults, and a fake Slack Web API that answers
 * 429 and 500 in bursts. Every two to three minutes Postgres goes away for the app and the worker
 * (their connections reset, new ones refused for 5–8 s, through a fault proxy): they must serve
 * again on their own once it is back. The SMTP relay (STARTTLS and a login, a certificate of the
 * soak's own CA) fails as a whole twice — it refuses our login, later it refuses connections, each
 * for tens of seconds: recipients must stay pending, the sending deployments be paused with one
 * relay-fault alert, and a responder resumes them from that alert once the relay is back. Then
 * everything settles and the checker's figures are printed.
 *
 *   npm run soak -- [minutes=10]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import { signGenericBody } from '../../src/http/webhooks/generic.js';
import { startSmtpSink, type SinkFault } from '../../src/mail/sink.js';
import { benchStack, markdownTable, percentile, saveResults } from '../../bench/support.js';
import { checkLedger } from '../support/checker.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { createTestCa } from '../support/tls-certs.js';
import { buttonClick, CHANNEL, commandBody, postSlack, SECRET, sendSigned, signedHeaders, startFakeSlack, viewSubmission } from '../support/slack.js';

const minutes = Number(process.argv[2] ?? 10);
// Postgres goes away every 2–3 minutes by default (SOAK_OUTAGE_EVERY_S=30 for a short run).
const outageEveryMs = Number(process.env.SOAK_OUTAGE_EVERY_S ?? 120) * 1000;
const LANES = 4;
const EVENTS_SECRET = 'soak-events-secret-0123456789abcdef';
const RELAY_PASSWORD = 'soak-relay-pass-0123';
// Each relay fault lasts this long; sending deployments are paused after RELAY_PAUSE_S of it.
const RELAY_FAULT_MS = 40_000;
const RELAY_PAUSE_S = 15;
const RESPONDERS = ['U0ALICE001', 'U0BOB00001', 'U0CAROL001'];
const ROOT = path.resolve(import.meta.dirname, '../..');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const pick = <T>(list: T[]) => list[Math.floor(Math.random() * list.length)]!;
const log = (text: string) => process.stdout.write(`[${new Date().toISOString().slice(11, 19)}] ${text}\n`);

// Recipients' fate is in their name: the sink rejects, defers or drops them, always.
const faultFor = (rcpt: string): SinkFault | undefined =>
  rcpt.startsWith('hard') ? { rejectRcpt: { code: 550, message: '5.1.1 no such user' } }
    : rcpt.startsWith('busy') ? { rejectRcpt: { code: 451, message: '4.3.0 try later' } }
      : rcpt.startsWith('drop') ? { closeAfterData: true }
        : undefined;

function audience(n: number, badList: boolean, index: number): { csv: string; injected: { hard: number; busy: number; drop: number } } {
  const injected = { hard: 0, busy: 0, drop: 0 };
  const lines = ['email,first_name'];
  for (let i = 0; i < n; i++) {
    const r = Math.random();
    const kind = r < (badList ? 0.15 : 0.01) ? 'hard' : r < (badList ? 0.153 : 0.013) ? 'busy' : r < (badList ? 0.155 : 0.015) ? 'drop' : 'reader';
    if (kind !== 'reader') injected[kind]++;
    lines.push(`${kind}${index}x${i}@soak${i % 7}.example,R${i}`);
  }
  return { csv: `${lines.join('\n')}\n`, injected };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** The CLI, as an operator runs it; its stdout. */
function cli(env: NodeJS.ProcessEnv, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/main.ts'), '--no-dotenv', ...args], { cwd: ROOT, env: { ...env, LOG_LEVEL: 'error' }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`campaign-guard ${args.join(' ')} exited ${code}`))));
  });
}

/** A process's resident memory now and at its peak (Linux /proc). */
async function processMemory(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

async function main() {
  const stack = await benchStack();
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'cg-soak-'));
  // The relay: STARTTLS with a certificate of the soak's CA (trusted through NODE_EXTRA_CA_CERTS)
  // and a login it refuses while `relayFault` is 'login'; it is reached through a fault proxy that
  // refuses connections while `relayFault` is 'refuse'.
  const ca = await createTestCa('Soak Relay CA');
  const relayCert = await ca.serverCert('relay');
  let relayFault: 'none' | 'login' | 'refuse' = 'none';
  const sink = await startSmtpSink({
    faultFor,
    relay: { ...relayCert, starttls: true, login: (user, pass) => relayFault !== 'login' && user === 'soak' && pass === RELAY_PASSWORD },
  });
  const smtpProxy = await startFaultProxy({ host: '127.0.0.1', port: sink.port });
  const slack = await startFakeSlack();
  // The app and the worker reach Postgres through a proxy that the outages switch; the CLI (the
  // operator's campaigns) and the soak's own checks go straight to it.
  const pgTarget = new URL(stack.pgUrl);
  const pgProxy = await startFaultProxy({ host: pgTarget.hostname, port: Number(pgTarget.port) });
  const proxiedPgUrl = Object.assign(new URL(stack.pgUrl), { port: String(pgProxy.port) }).toString();
  const env = {
    DATABASE_URL: proxiedPgUrl, REDIS_URL: stack.redisUrl, SMTP_URL: `smtp://soak:${RELAY_PASSWORD}@127.0.0.1:${smtpProxy.port}`, PORT: '0', HOST: '127.0.0.1',
    NODE_EXTRA_CA_CERTS: ca.caFile, RELAY_FAULT_PAUSE_SECONDS: String(RELAY_PAUSE_S),
    SLACK_BOT_TOKEN: 'xoxb-soak-token', SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: slack.url, SLACK_ALERT_CHANNEL: CHANNEL,
    EVENTS_WEBHOOK_SECRET: EVENTS_SECRET, SEND_CONCURRENCY: String(LANES), SEND_RATE_PER_SECOND: '300', SEND_LEASE_SECONDS: '15',
    PREFETCH_LEAD_SECONDS: '0', ALERT_MIN_SAMPLE: '100', ALERT_SUSTAIN_SECONDS: '5', SMTP_TIMEOUT_SECONDS: '5',
  };
  // The app runs as production does, in a process of its own (so its memory is its own), and
  // only errors are printed: refused forgeries and Slack's 429s are expected here.
  const port = await freePort();
  const appEnv = { ...process.env, ...env, PORT: String(port), LOG_LEVEL: 'error' };
  const cliEnv = { ...appEnv, DATABASE_URL: stack.pgUrl };
  const app = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/main.ts'), '--no-dotenv', 'serve'], { cwd: ROOT, env: appEnv, stdio: ['ignore', 'ignore', 'inherit'] });
  process.on('exit', () => app.kill('SIGKILL'));
  const base = `http://127.0.0.1:${port}`;
  for (let tries = 0; !(await fetch(`${base}/readyz`).then((r) => r.ok, () => false)); tries++) {
    if (tries > 120) throw new Error('the app did not become ready');
    await sleep(500);
  }
  for (const user of RESPONDERS) await cli(cliEnv, ['access', 'grant', user, '--role', 'responder']);
  const sql = stack.database.sql;
  const memory = { atOneMinute: 0, end: 0, peak: 0 };
  setTimeout(() => void processMemory(app.pid!).then((m) => (memory.atOneMinute = m.rss)), 60_000);

  // A second worker process, killed now and then.
  let worker: ChildProcess | undefined;
  let kills = 0;
  let heldAtKills = 0;
  const startWorker = () => {
    worker = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/main.ts'), '--no-dotenv', 'serve', '--role', 'worker'], {
      cwd: ROOT, env: { ...process.env, ...env, HEALTH_PORT: '0', LOG_LEVEL: 'error' }, stdio: ['ignore', 'ignore', 'inherit'],
    });
  };
  startWorker();
  process.on('exit', () => worker?.kill('SIGKILL'));

  const figures = { campaigns: 0, recipients: 0, injected: { hard: 0, busy: 0, drop: 0 }, slackCancels: 0, doubleSubmits: 0, cancelOutcomes: new Map<string, number>(), statusRequests: 0, forgedSlack: 0, forgedSlackAccepted: 0, webhookPosts: 0, webhookReplays: 0, webhookForged: 0, webhookForgedAccepted: 0, webhookErrors: 0, webhookDeferred: 0, eventsSent: new Set<string>(), slackFaults: 0 };
  const ackMs: number[] = [];
  const outages = { downMs: [] as number[], notReadyDuring: 0, readyAgainMs: [] as number[], cannotAnswer: 0 };
  const deployments: string[] = [];
  const cancelling = new Set<string>();
  const started = Date.now();
  const deadline = started + minutes * 60_000;
  const running = () => Date.now() < deadline;
  let settled = false;
  const relay = { faults: [] as { kind: string; downMs: number }[], resets: 0, resumeClicks: 0, resumeAnswers: new Map<string, number>() };
  const slackRequest = async (body: string) => {
    const res = await sendSigned(base, body);
    ackMs.push(res.ms);
    return res;
  };

  /** A responder cancels through Slack: click, modal, submit; sometimes two submit at once. */
  const cancelInSlack = async (dep: string, ts: string | undefined) => {
    if (cancelling.has(dep)) return;
    cancelling.add(dep);
    const users = Math.random() < 0.25 ? [RESPONDERS[0]!, RESPONDERS[1]!] : [pick(RESPONDERS)];
    const modals = [];
    for (const user of users) {
      const before = slack.ok('views.open').length;
      await slackRequest(buttonClick({ actionId: 'cancel_deployment', value: `v1:${dep}` }, user, { ts }));
      const call = await slack.waitFor(() => slack.ok('views.open').slice(before).find((c) => JSON.stringify(c.args).includes(dep)), 10_000, 'the modal').catch(() => undefined);
      if (call) modals.push({ user, metadata: (call.args.view as { private_metadata: string }).private_metadata });
    }
    if (modals.length === 0) {
      // No modal: the click was answered "cannot answer right now" (Postgres away); retried later.
      cancelling.delete(dep);
      return;
    }
    if (modals.length === 2) figures.doubleSubmits++;
    const answers = await Promise.all(modals.map((m) => slackRequest(viewSubmission({ id: `V${Math.random().toString(36).slice(2, 11)}`, privateMetadata: m.metadata, reason: 'soak: bounce spike' }, m.user))));
    for (const a of answers) {
      const said = String((a.json?.errors as Record<string, string> | undefined)?.reason ?? a.text).replace(/dep_\w+/g, 'it').replace(/ by \S+ at .*/, ' by someone').slice(0, 60);
      const outcome = a.text === '' ? 'closed (cancelled)' : said;
      figures.cancelOutcomes.set(outcome, (figures.cancelOutcomes.get(outcome) ?? 0) + 1);
      if (/right now/.test(said)) cancelling.delete(dep); // the responder tries again
    }
    figures.slackCancels++;
  };

  const loops: Promise<void>[] = [];
  // Campaigns: one every 5 s, a third of them bad lists (alerts, then a cancel from the alert).
  loops.push((async () => {
    for (let i = 0; running(); i++) {
      const bad = i % 3 === 1;
      const n = 300 + Math.floor(Math.random() * 1500);
      const { csv, injected } = audience(n, bad, i);
      const file = path.join(tmp, `soak-${i}.csv`);
      await writeFile(file, csv);
      const out = await cli(cliEnv, ['campaign', 'create', '--name', `Soak ${i}${bad ? ' (bad list)' : ''}`, '--recipients', file, '--now', '--batches', String(1 + (i % 2)), '--batch-interval', '3s', '--json']);
      const created = { value: JSON.parse(out) as { deploymentIds: string[] } };
      deployments.push(...created.value.deploymentIds);
      figures.campaigns++;
      figures.recipients += n;
      for (const k of ['hard', 'busy', 'drop'] as const) figures.injected[k] += injected[k];
      // Some healthy sends are cancelled anyway, part-way (a wrong audience noticed by a person).
      if (!bad && Math.random() < 0.2) setTimeout(() => void cancelInSlack(created.value.deploymentIds[0]!, undefined).catch((e) => log(`cancel failed: ${e}`)), 1000 + Math.random() * 4000);
      await sleep(5000);
    }
  })());
  // Alerts: a responder cancels every alerted deployment that is still sending, from the alert.
  loops.push((async () => {
    while (running()) {
      const alerts = await sql<{ deployment_id: string; slack_ts: string }[]>`
        select a.deployment_id, a.slack_ts from alerts a join deployments d on d.id = a.deployment_id
        where a.slack_ts is not null and d.status = 'sending'`;
      for (const a of alerts) void cancelInSlack(a.deployment_id, a.slack_ts).catch((e) => log(`cancel failed: ${e}`));
      await sleep(500);
    }
  })());
  // Slack noise: status commands and buttons, forged requests.
  loops.push((async () => {
    while (running()) {
      const dep = deployments.length ? pick(deployments) : undefined;
      if (dep) {
        await slackRequest(Math.random() < 0.5 ? commandBody(`status ${dep}`, pick(RESPONDERS)) : buttonClick({ actionId: 'deployment_status', value: `v1:${dep}` }, pick(RESPONDERS)));
        figures.statusRequests++;
      }
      if (Math.random() < 0.2) {
        const body = buttonClick({ actionId: 'cancel_deployment', value: `v1:${dep ?? 'dep_0000000000'}` }, 'U0MALLORY1');
        const res = await postSlack(base, body, signedHeaders(body, undefined, { secret: 'not-our-signing-secret-0123456789' }));
        figures.forgedSlack++;
        if (res.status !== 401) figures.forgedSlackAccepted++;
      }
      await sleep(400);
    }
  })());
  // Provider feedback: deliveries, bounces, complaints for sent messages; replays; forgeries.
  loops.push((async () => {
    let last = '';
    while (running()) {
      await sleep(250);
      const dep = deployments.length ? pick(deployments.slice(-20)) : undefined;
      if (!dep) continue;
      const rows = await sql<{ seq: number; email: string }[]>`select seq, email from deliveries where deployment_id = ${dep} and status = 'sent' and seq >= ${Math.floor(Math.random() * 1000)} order by seq limit 25`;
      if (rows.length === 0) continue;
      const events = rows.map((r) => {
        const roll = Math.random();
        const type = roll < 0.965 ? 'delivery' : roll < 0.997 ? 'bounce' : 'complaint';
        return { id: `soak-${dep}-${r.seq}-${type}`, type, ...(type === 'bounce' ? { bounceType: Math.random() < 0.6 ? 'hard' : 'soft' } : {}), deliveryTag: `${dep}.${r.seq}`, recipient: r.email };
      });
      const replay = last && Math.random() < 0.1;
      const body = replay ? last : JSON.stringify({ events });
      const forged = Math.random() < 0.05;
      const timestamp = String(Math.floor(Date.now() / 1000));
      const signature = forged ? signGenericBody('someone-else-entirely-0123456789abc', timestamp, body) : signGenericBody(EVENTS_SECRET, timestamp, body);
      const post = async () => {
        const answer = await fetch(`${base}/webhooks/events`, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-campaign-guard-timestamp': timestamp, 'x-campaign-guard-signature': signature } });
        await answer.arrayBuffer();
        return answer;
      };
      let res = await post();
      // A 5xx is our temporary fault (Postgres away): the provider retries, as SES and SendGrid do.
      for (let retry = 0; res.status >= 500 && retry < 60 && !forged; retry++) {
        figures.webhookDeferred++;
        await sleep(1000);
        res = await post();
      }
      if (forged) {
        figures.webhookForged++;
        if (res.status < 400) figures.webhookForgedAccepted++;
        continue;
      }
      if (res.status >= 400) figures.webhookErrors++;
      if (replay) figures.webhookReplays++;
      else if (res.status < 300) for (const e of events) figures.eventsSent.add(e.id);
      figures.webhookPosts++;
      last = body;
    }
  })());
  // Slack's Web API misbehaves in bursts; the second worker dies now and then.
  loops.push((async () => {
    for (let tick = 1; running(); tick++) {
      await sleep(1000);
      if (tick % 20 !== 0) continue;
      slack.fail('chat.update', { status: 429, retryAfter: 1 }, { status: 500 });
      slack.fail('chat.postMessage', { status: 500 }, { status: 429, retryAfter: 1 });
      figures.slackFaults += 4;
    }
  })());
  loops.push((async () => {
    while (running()) {
      const at = Date.now() + 60_000 + Math.random() * 60_000;
      while (running() && Date.now() < at) await sleep(1000);
      if (!running() || !worker?.pid) break;
      const pid = worker.pid;
      worker.kill('SIGKILL');
      await new Promise((resolve) => worker!.once('exit', resolve));
      kills++;
      heldAtKills += (await sql<{ n: number }[]>`select count(*)::int as n from deliveries where status = 'claimed' and claimed_by like ${`%:${pid}:%`}`)[0]!.n;
      startWorker();
    }
  })());
  // Postgres away for the app and the worker, now and then: connections reset, new ones refused.
  loops.push((async () => {
    while (running()) {
      const at = Date.now() + outageEveryMs * (1 + Math.random() / 2);
      while (running() && Date.now() < at) await sleep(1000);
      if (!running()) break;
      const downMs = 5000 + Math.random() * 3000;
      const downAt = Date.now();
      pgProxy.set('reset');
      pgProxy.set('refuse');
      outages.downMs.push(downMs);
      await sleep(Math.min(3000, downMs));
      const during = await fetch(`${base}/readyz`).then((r) => r.status, () => 0);
      if (during === 503) outages.notReadyDuring++;
      // The answer comes in the acknowledgement, or a moment later through response_url.
      const responseName = `outage-${outages.downMs.length}`;
      const answer = await sendSigned(base, commandBody(`status ${deployments.at(-1) ?? 'dep_0000000000'}`, pick(RESPONDERS), { responseUrl: slack.responseUrl(responseName) }));
      const later = () => slack.responses.find((r) => r.path.endsWith(`/${responseName}`))?.body as { text?: string } | undefined;
      await slack.waitFor(() => answer.json?.text ?? later()?.text, 3000, 'the status answer').catch(() => undefined);
      if (/right now/.test(String(answer.json?.text ?? later()?.text))) outages.cannotAnswer++;
      await sleep(Math.max(0, downAt + downMs - Date.now()));
      pgProxy.set('pass');
      const back = performance.now();
      while (!(await fetch(`${base}/readyz`).then((r) => r.ok, () => false))) await sleep(50);
      outages.readyAgainMs.push(performance.now() - back);
      log(`Postgres outage ${outages.downMs.length}: down ${(downMs / 1000).toFixed(1)} s, /readyz ${during} during it, ready again ${Math.round(outages.readyAgainMs.at(-1)!)} ms after it came back`);
    }
  })());
  // The relay fails as a whole: it refuses our login (at a quarter of the run), later it refuses
  // connections (past half of it). Connections open now are reset, so the next ones must log in.
  loops.push((async () => {
    for (const [kind, at] of [['login', 0.25], ['refuse', 0.55]] as const) {
      while (running() && Date.now() < started + minutes * 60_000 * at) await sleep(1000);
      if (!running()) break;
      relayFault = kind;
      smtpProxy.set('reset');
      relay.resets++;
      smtpProxy.set(kind === 'refuse' ? 'refuse' : 'pass');
      const downAt = Date.now();
      await sleep(RELAY_FAULT_MS);
      relayFault = 'none';
      smtpProxy.set('pass');
      relay.faults.push({ kind, downMs: Date.now() - downAt });
      log(`relay fault (${kind === 'login' ? 'login refused' : 'connections refused'}) for ${Math.round((Date.now() - downAt) / 1000)} s; over`);
    }
  })());
  // A responder resumes each relay fault from its alert, once the relay works again (until all settled).
  const resumer = (async () => {
    while (!settled) {
      await sleep(1000);
      if (relayFault !== 'none') continue;
      const open = await sql<{ id: string; slack_ts: string }[]>`select id, slack_ts from relay_faults where state = 'open' and slack_ts is not null`.catch(() => []);
      for (const f of open) {
        relay.resumeClicks++;
        const before = slack.ok('chat.postEphemeral').length;
        await slackRequest(buttonClick({ actionId: 'resume_deployment', value: `v1:${f.id}` }, pick(RESPONDERS), { ts: f.slack_ts }));
        const reply = await slack.waitFor(() => slack.ok('chat.postEphemeral').slice(before).find((c) => String(c.args.text).includes(f.id))?.args.text, 5000, 'the resume answer').catch(() => 'no answer');
        const said = String(reply).replace(/rly_\w+|dep_\w+/g, 'it').replace(/(it, )+it/g, 'them').slice(0, 60);
        relay.resumeAnswers.set(said, (relay.resumeAnswers.get(said) ?? 0) + 1);
      }
    }
  })();
  // Progress.
  loops.push((async () => {
    for (let tick = 1; running(); tick++) {
      await sleep(1000);
      if (tick % 30 !== 0) continue;
      const [s] = await sql<{ sending: number }[]>`select count(*) filter (where status in ('sending', 'prefetching', 'prefetched', 'scheduled'))::int as sending from deployments`;
      log(`${figures.campaigns} campaigns, ${sink.count()} messages received, ${s!.sending} deployments still going, ${figures.slackCancels} cancels, ${figures.webhookPosts} webhook posts, ${kills} worker kills`);
    }
  })());
  await Promise.all(loops);

  log('load stopped; waiting for every deployment to settle');
  const settleBy = Date.now() + 10 * 60_000;
  for (;;) {
    const [open] = await sql<{ n: number }[]>`
      select count(*)::int as n from deployments
      where status not in ('completed', 'cancelled', 'failed') or in_flight_count > 0 or (status = 'cancelled' and not ledger_closed)`;
    const [outbox] = await sql<{ n: number }[]>`select count(*)::int as n from slack_outbox where status = 'pending'`;
    if (open!.n === 0 && outbox!.n === 0) break;
    if (Date.now() > settleBy) throw new Error(`not settled after 10 minutes: ${open!.n} deployments, ${outbox!.n} Slack messages`);
    await sleep(1000);
  }
  settled = true;
  await resumer;
  Object.assign(memory, await processMemory(app.pid!).then((m) => ({ end: m.rss, peak: m.peak })));

  const anomalies: unknown[] = [];
  const total = { deployments: 0, recipients: 0, sent: 0, bounced: 0, failed: 0, unknown: 0, cancelled: 0, duplicates: 0, lost: 0, phantom: 0, late: 0, booksMismatch: 0 };
  const stops = await sql<{ id: string; cancelled_at: Date | string | null }[]>`select id, cancelled_at from deployments`;
  for (const d of stops) {
    const check = await checkLedger(stack.database, d.id, sink, { stoppedAt: d.cancelled_at ? new Date(d.cancelled_at).getTime() : undefined, graceMs: 1000 });
    total.deployments++;
    total.recipients += check.total;
    for (const k of ['sent', 'bounced', 'failed', 'unknown', 'cancelled'] as const) total[k] += check.byStatus[k] ?? 0;
    total.duplicates += check.duplicates;
    total.lost += check.lost;
    total.phantom += check.phantom;
    total.late += check.late;
    if (!check.booksMatch) total.booksMismatch++;
    if (check.duplicates + check.lost + check.phantom + check.late > 0 || !check.booksMatch) {
      const rows = await sql<{ seq: number; status: string; smtp_code: number | null; smtp_reply: string | null }[]>`
        select seq, status, smtp_code, smtp_reply from deliveries where deployment_id = ${d.id} and status in ('pending', 'claimed', 'sent')`;
      const lostRows = rows.filter((r) => r.status !== 'sent' || !sink.byDelivery.has(`${d.id}.${r.seq}`)).slice(0, 10);
      const [dep] = await sql`select status, ledger_closed, in_flight_count from deployments where id = ${d.id}`;
      anomalies.push({ deployment: d.id, dep, ...check, lostRows });
    }
  }
  const [events] = await sql<{ stored: number; counted: number }[]>`
    select count(*)::int as stored, count(*) filter (where disposition = 'counted')::int as counted from provider_events where event_id like 'soak-%'`;
  const [outbox] = await sql<{ delivered: number; failed: number }[]>`
    select count(*) filter (where status = 'delivered')::int as delivered, count(*) filter (where status = 'failed')::int as failed from slack_outbox`;
  const okCalls = slack.calls.filter((c) => c.status === 200 && ['chat.postMessage', 'chat.update'].includes(c.method));
  const seen = new Set<string>();
  let doubled = 0;
  for (const c of okCalls) {
    const key = JSON.stringify([c.method, c.args.channel, c.args.ts ?? null, c.args.thread_ts ?? null, c.args.text ?? null, c.args.blocks ?? null]);
    if (seen.has(key)) {
      doubled++;
      anomalies.push({ doubledSlackCall: { method: c.method, channel: c.args.channel, ts: c.args.ts ?? null, threadTs: c.args.thread_ts ?? null, text: String(c.args.text ?? '').slice(0, 160) } });
    }
    seen.add(key);
  }
  // Each delivered outbox row is one accepted Web API call of its kind, and no accepted call is extra.
  const byKind = Object.fromEntries((await sql<{ kind: string; n: number }[]>`select kind, count(*)::int as n from slack_outbox where status = 'delivered' group by kind`).map((r) => [r.kind, r.n]));
  const accepted = {
    post: okCalls.filter((c) => c.method === 'chat.postMessage' && !c.args.thread_ts).length,
    thread_reply: okCalls.filter((c) => c.method === 'chat.postMessage' && c.args.thread_ts).length,
    update: okCalls.filter((c) => c.method === 'chat.update').length,
  };
  const [alerts] = await sql<{ n: number }[]>`select count(*)::int as n from alerts where slack_ts is not null`;
  // Relay faults: their records, what they paused and how that ended; recipients failed by them
  // (a failure whose reply is not the sink's injected 451 at RCPT).
  const [relayFaults] = await sql<{ records: number; open: number; paused: number; unfinished: number; posts: number }[]>`
    select count(*)::int as records, count(*) filter (where state = 'open')::int as open,
      (select count(distinct d)::int from relay_faults, unnest(deployment_ids) d) as paused,
      (select count(*)::int from deployments where id in (select unnest(deployment_ids) from relay_faults) and status not in ('completed', 'cancelled')) as unfinished,
      (select count(*)::int from slack_outbox where payload->>'type' = 'relay_fault' and kind = 'post') as posts
    from relay_faults`;
  const [resumedBy] = await sql<{ n: number }[]>`select count(*)::int as n from audit_log where action = 'resume' and target_type = 'relayFault' and outcome = 'ok'`;
  const [failedByRelay] = await sql<{ n: number }[]>`select count(*)::int as n from deliveries where status = 'failed' and smtp_code is distinct from 451`;
  const [cancels] = await sql<{ n: number }[]>`select count(*)::int as n from audit_log where action = 'cancel' and outcome = 'ok'`;
  const mb = (n: number) => `${Math.round(n / 1048576)} MB`;

  const rows: (string | number)[][] = [
    ['duration', `${minutes} min of load, then settled`],
    ['campaigns / deployments / recipients', `${figures.campaigns} / ${total.deployments} / ${total.recipients}`],
    ['sent / bounced / failed / unknown / never sent (cancelled)', `${total.sent} / ${total.bounced} / ${total.failed} / ${total.unknown} / ${total.cancelled}`],
    ['injected: 550 / 451 / drop after DATA', `${figures.injected.hard} / ${figures.injected.busy} / ${figures.injected.drop}`],
    ['**duplicates / lost / phantom**', `${total.duplicates} / ${total.lost} / ${total.phantom}`],
    ['late (received > 1 s after a cancel committed)', total.late],
    ['deployments whose books differ from the ledger', total.booksMismatch],
    ['worker SIGKILLs / claims held at the kills', `${kills} / ${heldAtKills}`],
    ['unknown ≤ dropped-after-DATA attempts + claims held at kills + lanes on the wire at relay resets', `${total.unknown} ≤ ${figures.injected.drop + heldAtKills + relay.resets * LANES * 2}: ${total.unknown <= figures.injected.drop + heldAtKills + relay.resets * LANES * 2 ? 'yes' : 'NO'}`],
    ['relay faults injected (login refused, connections refused)', relay.faults.map((f) => `${f.kind} ${(f.downMs / 1000).toFixed(0)} s`).join(', ') || 'none (run too short)'],
    ['**recipients failed by relay faults** (failed without the injected 451)', failedByRelay!.n],
    ['relay-fault records (open at the end) / alerts posted', `${relayFaults!.records} (${relayFaults!.open}) / ${relayFaults!.posts}`],
    ['deployments paused by relay faults / resumed from the alert (clicks: answers) / not finished', `${relayFaults!.paused} / ${resumedBy!.n} resumes (${relay.resumeClicks}: ${[...relay.resumeAnswers].map(([k, v]) => `${k} ${v}`).join('; ')}) / ${relayFaults!.unfinished}`],
    ['Slack cancels (two responders at once) / committed cancels', `${figures.slackCancels} (${figures.doubleSubmits}) / ${cancels!.n}`],
    ['submit answers', [...figures.cancelOutcomes].map(([k, v]) => `${k}: ${v}`).join('; ')],
    ['status requests / forged Slack requests (accepted)', `${figures.statusRequests} / ${figures.forgedSlack} (${figures.forgedSlackAccepted})`],
    ['Slack ack p50 / p99 / max', `${percentile(ackMs, 50).toFixed(0)} / ${percentile(ackMs, 99).toFixed(0)} / ${Math.max(...ackMs).toFixed(0)} ms`],
    ['alerts with a Slack message', alerts!.n],
    ['outbox rows delivered / calls Slack accepted: posts, thread replies, edits', (['post', 'thread_reply', 'update'] as const).map((k) => `${byKind[k] ?? 0} / ${accepted[k]}`).join(', ')],
    ['Slack outbox delivered / failed; injected 429s and 500s; identical calls delivered twice', `${outbox!.delivered} / ${outbox!.failed}; ${figures.slackFaults}; ${doubled}`],
    ['webhook posts / replays / forged (accepted) / 4xx errors / 5xx answers retried', `${figures.webhookPosts} / ${figures.webhookReplays} / ${figures.webhookForged} (${figures.webhookForgedAccepted}) / ${figures.webhookErrors} / ${figures.webhookDeferred}`],
    ['distinct events sent / stored once each / counted', `${figures.eventsSent.size} / ${events!.stored} / ${events!.counted}`],
    ['Postgres outages (reset, then refused) / down for', `${outages.downMs.length} / ${outages.downMs.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(', ')}`],
    ['during each: /readyz 503; status command answered "cannot … right now"', `${outages.notReadyDuring} of ${outages.downMs.length}; ${outages.cannotAnswer} of ${outages.downMs.length}`],
    ['app ready again after Postgres came back (max), no restart', `${outages.readyAgainMs.length ? Math.round(Math.max(...outages.readyAgainMs)) : '-'} ms`],
    ['app process (serve --role all) RSS after 1 min → at the end; peak', `${mb(memory.atOneMinute)} → ${mb(memory.end)}; ${mb(memory.peak)}`],
  ];
  const markdown = `## Soak (${minutes} min)\n\n${markdownTable(['figure', 'value'], rows)}`;
  process.stdout.write(`\n${markdown}\n`);
  for (const a of anomalies) process.stdout.write(`anomaly: ${JSON.stringify(a)}\n`);
  await saveResults('soak', { minutes, total, kills, heldAtKills, outages, figures: { ...figures, eventsSent: figures.eventsSent.size, cancelOutcomes: Object.fromEntries(figures.cancelOutcomes) }, events, outbox, doubled, ackMs: { p50: percentile(ackMs, 50), p99: percentile(ackMs, 99) } }, markdown);

  worker?.kill('SIGKILL');
  app.kill('SIGTERM');
  await new Promise((resolve) => app.once('exit', resolve));
  await rm(tmp, { recursive: true, force: true });
  await slack.close();
  await sink.close();
  await pgProxy.close();
  await smtpProxy.close();
  await ca.remove();
  await stack.stop();
  const clean = anomalies.length === 0 && failedByRelay!.n === 0 && relayFaults!.open === 0 && relayFaults!.unfinished === 0 && outages.readyAgainMs.every((ms) => ms < 5000) && figures.forgedSlackAccepted === 0 && figures.webhookForgedAccepted === 0 && doubled === 0 && outbox!.failed === 0;
  process.exitCode = clean ? 0 : 1;
}

await main();
