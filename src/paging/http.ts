/**
 * One POST to a pager and what its answer means for the outbox row: 2xx delivered; 408, 429, 5xx,
 * a timeout or a network error are the pager's or the network's fault and are retried (429 after
 * the Retry-After it asks for); any other answer (400 invalid event, 401, 404, a redirect) says
 * the event or the configuration is wrong, and sending it again would get the same answer.
 */
export type SendOutcome =
  | { kind: 'delivered'; status: number }
  | { kind: 'retry'; detail: string; retryAfterSeconds?: number }
  | { kind: 'rejected'; detail: string };

/** How an error body becomes the row's last_error: the pager's own words when it gives them. */
export type DescribeRefusal = (status: number, body: string) => string;

const plainDetail: DescribeRefusal = (status, body) => `HTTP ${status}${body.trim() ? `: ${body.trim().slice(0, 300)}` : ''}`;

/** A URL's user and password (https://user:pass@host/…) as Basic auth: fetch refuses a URL that carries them. */
function withoutCredentials(url: string): { target: string; auth: Record<string, string> } {
  const parsed = new URL(url);
  if (!parsed.username && !parsed.password) return { target: url, auth: {} };
  const credentials = `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`;
  parsed.username = '';
  parsed.password = '';
  return { target: parsed.toString(), auth: { authorization: `Basic ${Buffer.from(credentials).toString('base64')}` } };
}

export async function postJson(url: string, body: string, headers: Record<string, string>, timeoutMs: number, describe: DescribeRefusal = plainDetail): Promise<SendOutcome> {
  const { target, auth } = withoutCredentials(url);
  let response: Response;
  try {
    response = await fetch(target, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'campaign-guard', ...auth, ...headers },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
    if (e.name === 'TimeoutError') return { kind: 'retry', detail: `no answer within ${timeoutMs} ms` };
    return { kind: 'retry', detail: `cannot be reached (${e.cause?.code ?? e.cause?.message ?? e.message ?? String(error)})` };
  }
  const text = await response.text().catch(() => '');
  const status = response.status;
  if (status >= 200 && status < 300) return { kind: 'delivered', status };
  const detail = describe(status, text);
  if (status === 408 || status === 429 || status >= 500) {
    const retryAfterSeconds = retryAfter(response.headers.get('retry-after'));
    return retryAfterSeconds === undefined ? { kind: 'retry', detail } : { kind: 'retry', detail, retryAfterSeconds };
  }
  if (status >= 300 && status < 400) return { kind: 'rejected', detail: `HTTP ${status}: redirected to ${response.headers.get('location') ?? 'nowhere'}; configure the URL it points to` };
  return { kind: 'rejected', detail };
}

/** Retry-After as seconds (either form: delta-seconds or an HTTP date), capped at an hour. */
export function retryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = /^\d+$/.test(value.trim()) ? Number(value.trim()) : (Date.parse(value) - Date.now()) / 1000;
  if (!Number.isFinite(seconds)) return undefined;
  return Math.min(3600, Math.max(0, seconds));
}
