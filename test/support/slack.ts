import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { slackLimitProblems } from './slack-limits.js';

/**
 * A fake Slack Web API on localhost, recording every call; it can answer 429 with Retry-After,
 * 500, or an `ok:false` error on demand; a message or view over Slack's Block Kit limits is
 * refused as Slack refuses it (`invalid_blocks`, `invalid_arguments`). Plus request signing, as
 * Slack does it.
 */
export const SECRET = 'e2etestsigningsecret0123456789ab';
export const TEAM = 'T0TEAM0001';
export const CHANNEL = 'C0ALERTS01';

export interface FakeCall {
  method: string;
  args: Record<string, unknown>;
  status: number;
  at: number;
  /** What was over Slack's limits, when the call was refused for it. */
  overLimits?: string[];
}

const MESSAGE_METHODS = new Set(['chat.postMessage', 'chat.postEphemeral', 'chat.update']);
const VIEW_METHODS = new Set(['views.open', 'views.push', 'views.update', 'views.publish']);

/** Slack's answer to a message or view over its limits, or undefined when it is within them. */
function limitRefusal(method: string, args: Record<string, unknown>): { problems: string[]; body: Record<string, unknown> } | undefined {
  if (MESSAGE_METHODS.has(method)) {
    const problems = slackLimitProblems('message', args);
    return problems.length ? { problems, body: { ok: false, error: 'invalid_blocks', errors: problems } } : undefined;
  }
  if (VIEW_METHODS.has(method)) {
    const view = (args.view ?? {}) as Record<string, unknown>;
    const problems = slackLimitProblems(view.type === 'home' ? 'home' : 'modal', view);
    return problems.length ? { problems, body: { ok: false, error: 'invalid_arguments', response_metadata: { messages: problems.map((p) => `[ERROR] ${p}`) } } } : undefined;
  }
  return undefined;
}

type Failure = { status: 429; retryAfter: number } | { status: 500 } | { error: string };

function decode(raw: string, contentType: string | undefined): Record<string, unknown> {
  if (contentType?.includes('application/json')) {
    try {
      return JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return {};
    }
  }
  const args: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    if (['blocks', 'view', 'attachments', 'metadata'].includes(k)) {
      try {
        args[k] = JSON.parse(v);
        continue;
      } catch {
        /* keep the string */
      }
    }
    args[k] = v;
  }
  return args;
}

/** What users.info says about a user (scope users:read); by default a normal active member of TEAM. */
export type FakeUser = { deleted?: boolean; is_restricted?: boolean; is_ultra_restricted?: boolean; is_stranger?: boolean; team_id?: string };

/** `socketModeUrl`: what apps.connections.open answers (a fake Socket Mode server's ws:// URL). */
export async function startFakeSlack(options: { team?: string; socketModeUrl?: string } = {}) {
  const calls: FakeCall[] = [];
  const users = new Map<string, FakeUser>();
  const responses: { path: string; body: unknown }[] = [];
  const failures = new Map<string, Failure[]>();
  let ts = 1767225600_000100;
  let views = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const path = req.url ?? '/';
      const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
      };
      if (path.startsWith('/response/')) {
        const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : null;
        responses.push({ path, body });
        const problems = body ? slackLimitProblems('message', body) : [];
        return problems.length ? send(400, { ok: false, error: 'invalid_blocks', errors: problems }) : send(200, { ok: true });
      }
      const method = path.replace(/^\/api\//, '').split('?')[0]!;
      const args = decode(raw, req.headers['content-type']);
      const failure = failures.get(method)?.shift();
      if (failure) {
        if ('status' in failure) {
          calls.push({ method, args, status: failure.status, at: Date.now() });
          return failure.status === 429 ? send(429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(failure.retryAfter) }) : send(500, { ok: false, error: 'internal' });
        }
        calls.push({ method, args, status: 200, at: Date.now() });
        return send(200, { ok: false, error: failure.error });
      }
      const refusal = limitRefusal(method, args);
      if (refusal) {
        calls.push({ method, args, status: 200, at: Date.now(), overLimits: refusal.problems });
        return send(200, refusal.body);
      }
      calls.push({ method, args, status: 200, at: Date.now() });
      switch (method) {
        case 'auth.test':
          return send(200, { ok: true, url: 'https://acme.slack.com/', team: 'Acme', team_id: options.team ?? TEAM, user_id: 'U0BOT00001', bot_id: 'B0BOT00001', user: 'campaign-guard' });
        case 'chat.postMessage': {
          ts += 100;
          const t = `${String(ts).slice(0, 10)}.${String(ts).slice(10)}`;
          return send(200, { ok: true, channel: args.channel, ts: t, message: { ts: t } });
        }
        case 'chat.update':
          return send(200, { ok: true, channel: args.channel, ts: args.ts });
        case 'apps.connections.open':
          return send(200, options.socketModeUrl ? { ok: true, url: options.socketModeUrl } : { ok: true });
        case 'users.info': {
          const id = String(args.user ?? '');
          const user = { id, name: id.toLowerCase(), team_id: options.team ?? TEAM, deleted: false, is_bot: false, is_restricted: false, is_ultra_restricted: false, ...users.get(id) };
          return send(200, { ok: true, user });
        }
        case 'chat.postEphemeral':
          return send(200, { ok: true, message_ts: '1767225710.000300' });
        case 'views.open':
        case 'views.push':
        case 'views.update':
        case 'views.publish': {
          const view = (args.view ?? {}) as Record<string, unknown>;
          views++;
          return send(200, { ok: true, view: { ...view, id: `V${String(views).padStart(9, '0')}`, hash: `h${views}` } });
        }
        default:
          return send(200, { ok: true });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/api/`,
    responseUrl: (name: string) => `http://127.0.0.1:${port}/response/${name}`,
    calls,
    responses,
    ok: (method: string) => calls.filter((c) => c.method === method && c.status === 200 && !c.overLimits),
    /** Calls refused for being over Slack's limits. */
    overLimits: () => calls.filter((c) => c.overLimits),
    /** How users.info describes `id` from now on (deactivated, a guest, a stranger, another team). */
    setUser(id: string, user: FakeUser) {
      users.set(id, user);
    },
    fail(method: string, ...list: Failure[]) {
      failures.set(method, [...(failures.get(method) ?? []), ...list]);
    },
    async waitFor<T>(probe: () => T | undefined | false, timeoutMs = 15_000, what = 'a Slack call'): Promise<T> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const v = probe();
        if (v) return v;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; calls: ${calls.map((c) => `${c.method}:${c.status}`).join(', ')}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type FakeSlack = Awaited<ReturnType<typeof startFakeSlack>>;

export function sign(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export const FORM = 'application/x-www-form-urlencoded';

export function signedHeaders(body: string, contentType = FORM, options: { secret?: string; now?: number } = {}) {
  const timestamp = Math.floor((options.now ?? Date.now()) / 1000);
  return { 'content-type': contentType, 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': sign(options.secret ?? SECRET, timestamp, body) };
}

export async function postSlack(baseUrl: string, body: string, headers: Record<string, string>) {
  const started = performance.now();
  const res = await fetch(`${baseUrl}/slack/events`, { method: 'POST', body, headers });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json: json as Record<string, unknown> | undefined, ms: performance.now() - started };
}

export async function sendSigned(baseUrl: string, body: string, contentType = FORM) {
  return postSlack(baseUrl, body, signedHeaders(body, contentType));
}

export function commandBody(text: string, user = 'U0ALICE001', options: { team?: string; responseUrl?: string; trigger?: string; channel?: string; channelName?: string } = {}) {
  return new URLSearchParams({
    token: 'verification_token',
    team_id: options.team ?? TEAM,
    team_domain: 'acme-mail',
    channel_id: options.channel ?? CHANNEL,
    channel_name: options.channelName ?? 'campaign-alerts',
    user_id: user,
    user_name: user.toLowerCase(),
    command: '/campaign',
    text,
    api_app_id: 'A0APP00001',
    is_enterprise_install: 'false',
    response_url: options.responseUrl ?? 'http://127.0.0.1:9/response/none',
    trigger_id: options.trigger ?? `${Date.now()}.${Math.random().toString(36).slice(2)}`,
  }).toString();
}

export function interactivityBody(payload: unknown) {
  return `payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

export function buttonClick(action: { actionId: string; value: string }, user: string, options: { team?: string; channel?: string; channelName?: string; ts?: string; responseUrl?: string } = {}) {
  const team = options.team ?? TEAM;
  return interactivityBody({
    type: 'block_actions',
    team: { id: team, domain: 'acme-mail' },
    user: { id: user, username: user.toLowerCase(), name: user.toLowerCase(), team_id: team },
    api_app_id: 'A0APP00001',
    token: 'verification_token',
    container: { type: 'message', message_ts: options.ts ?? '1767225600.000100', channel_id: options.channel ?? CHANNEL, is_ephemeral: false },
    trigger_id: `${Date.now()}.${Math.random().toString(36).slice(2)}`,
    channel: { id: options.channel ?? CHANNEL, name: options.channelName ?? 'campaign-alerts' },
    message: { type: 'message', ts: options.ts ?? '1767225600.000100', text: 'alert', blocks: [] },
    state: { values: {} },
    response_url: options.responseUrl ?? 'http://127.0.0.1:9/response/none',
    actions: [{ type: 'button', action_id: action.actionId, block_id: 'deployment_actions', text: { type: 'plain_text', text: 'x' }, value: action.value, action_ts: String(Date.now() / 1000) }],
    is_enterprise_install: false,
    enterprise: null,
  });
}

/** A submit of the cancel modal; `confirm` is what was typed in the confirmation field (CANCEL unless given). */
export function viewSubmission(view: { id: string; privateMetadata: string; reason?: string | null; confirm?: string | null }, user: string, team = TEAM) {
  return interactivityBody({
    type: 'view_submission',
    team: { id: team, domain: 'acme-mail' },
    user: { id: user, username: user.toLowerCase(), name: user.toLowerCase(), team_id: team },
    api_app_id: 'A0APP00001',
    token: 'verification_token',
    trigger_id: '111.222.valid',
    view: {
      id: view.id,
      team_id: team,
      type: 'modal',
      callback_id: 'cancel_deployment_confirm',
      title: { type: 'plain_text', text: 'Cancel deployment?' },
      blocks: [],
      private_metadata: view.privateMetadata,
      state: {
        values: {
          reason: { reason_input: { type: 'plain_text_input', value: view.reason ?? null } },
          confirm: { confirm_input: { type: 'plain_text_input', value: view.confirm === undefined ? 'CANCEL' : view.confirm } },
        },
      },
      hash: '1767225705.aBcD1234',
      clear_on_close: false,
      notify_on_close: false,
      close: null,
      submit: null,
      previous_view_id: null,
      root_view_id: view.id,
      app_id: 'A0APP00001',
      external_id: '',
      app_installed_team_id: team,
      bot_id: 'B0BOT00001',
    },
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  });
}

export function homeOpened(user: string, team = TEAM) {
  return JSON.stringify({
    token: 'verification_token',
    team_id: team,
    api_app_id: 'A0APP00001',
    event: { type: 'app_home_opened', user, channel: 'D0DMALICE1', tab: 'home', event_ts: String(Date.now() / 1000) },
    type: 'event_callback',
    event_id: `Ev${Date.now()}${Math.random().toString(36).slice(2, 8)}`,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [{ enterprise_id: null, team_id: team, user_id: 'U0BOT00001', is_bot: true, is_enterprise_install: false }],
    is_ext_shared_channel: false,
  });
}
