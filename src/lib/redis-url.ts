/**
 * What REDIS_URL names: one server (`redis://`, `rediss://`, as ioredis reads them), a Sentinel
 * set (`redis+sentinel://[user:pass@]host1:26379,host2:26379/mymaster[/db][?sentinelPassword=…]`)
 * or a Cluster (`redis+cluster://[user:pass@]host1:7000,host2:7001`); the `rediss+` forms speak
 * TLS to every node (and to the sentinels). Parsed here without I/O, so configuration refuses a
 * bad one in one line; the password is never part of a problem.
 */
export interface RedisNode {
  host: string;
  port: number;
}

interface Credentials {
  username: string | undefined;
  password: string | undefined;
  tls: boolean;
}

export type RedisTarget =
  | { kind: 'server'; url: string }
  | ({ kind: 'sentinel'; sentinels: RedisNode[]; name: string; db: number; sentinelPassword: string | undefined } & Credentials)
  | ({ kind: 'cluster'; nodes: RedisNode[] } & Credentials);

const SERVER_EXAMPLE = 'redis://host:6379';
const FORMS = `must be a URL like ${SERVER_EXAMPLE}, redis+sentinel://host1:26379,host2:26379/mymaster or redis+cluster://host1:7000,host2:7001`;
const MULTI = /^(rediss?)\+(sentinel|cluster):\/\/(?:([^@/?#]*)@)?([^/?#]*)([^?#]*)(?:\?([^#]*))?$/;

export function parseRedisUrl(url: string): RedisTarget | { problem: string } {
  const multi = MULTI.exec(url);
  if (!multi) {
    try {
      if (['redis:', 'rediss:'].includes(new URL(url).protocol)) return { kind: 'server', url };
    } catch {
      // falls through to the problem
    }
    return { problem: FORMS };
  }
  const [, scheme, kind, userinfo, hostList, path, query] = multi as unknown as [string, string, 'sentinel' | 'cluster', string | undefined, string, string, string | undefined];
  const credentials = parseUserinfo(userinfo);
  if (!credentials) return { problem: 'has a user or password that is not URL-encoded' };
  const nodes = parseNodes(hostList, kind === 'sentinel' ? 26379 : 6379);
  if (typeof nodes === 'string') return { problem: nodes };
  const params = new URLSearchParams(query ?? '');
  const tls = scheme === 'rediss';

  if (kind === 'cluster') {
    if (path !== '' && path !== '/') return { problem: 'names a Cluster, which has no database number or path (remove what follows the hosts)' };
    if (params.size > 0) return { problem: `names a Cluster, which takes no options (${[...params.keys()].join(', ')})` };
    return { kind, nodes, ...credentials, tls };
  }
  const segments = path.split('/').filter((segment) => segment !== '');
  const name = segments[0] ? safeDecode(segments[0]) : undefined;
  if (!name) return { problem: 'names a Sentinel set without its master name, like redis+sentinel://host1:26379,host2:26379/mymaster' };
  if (segments.length > 2 || (segments[1] !== undefined && !/^\d{1,2}$/.test(segments[1]))) {
    return { problem: 'must end with the master name and an optional database number, like /mymaster/0' };
  }
  const unknown = [...params.keys()].filter((key) => key !== 'sentinelPassword');
  if (unknown.length > 0) return { problem: `has ${unknown.join(', ')}; a Sentinel URL takes only sentinelPassword` };
  return {
    kind,
    sentinels: nodes,
    name,
    db: Number(segments[1] ?? 0),
    sentinelPassword: params.get('sentinelPassword') ?? undefined,
    ...credentials,
    tls,
  };
}

function parseUserinfo(userinfo: string | undefined): { username: string | undefined; password: string | undefined } | undefined {
  if (userinfo === undefined || userinfo === '') return { username: undefined, password: undefined };
  const colon = userinfo.indexOf(':');
  const user = safeDecode(colon < 0 ? userinfo : userinfo.slice(0, colon));
  const password = colon < 0 ? '' : safeDecode(userinfo.slice(colon + 1));
  if (user === undefined || password === undefined) return undefined;
  // `redis://secret@host` is a password, not a user: ioredis reads a lone userinfo so, and so do we.
  if (colon < 0) return { username: undefined, password: user || undefined };
  return { username: user || undefined, password: password || undefined };
}

function parseNodes(list: string, defaultPort: number): RedisNode[] | string {
  if (list === '') return 'names no hosts';
  // An unencoded @ in the password leaves part of it here: never echo that.
  if (list.includes('@')) return 'has an @ after its user and password (write it as %40 in the password)';
  const nodes: RedisNode[] = [];
  for (const entry of list.split(',')) {
    const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+)(?::(\d{1,5}))?$/.exec(entry);
    const port = match?.[2] === undefined ? defaultPort : Number(match[2]);
    if (!match || port < 1 || port > 65535) return `has a host that is not host:port (${entry.slice(0, 60)})`;
    nodes.push({ host: match[1]!.replace(/^\[|\]$/g, ''), port });
  }
  return nodes;
}

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/**
 * BullMQ's Lua scripts touch several keys of a queue at once; on a Cluster they must all hash to
 * one slot, which a prefix with a hash tag (`{cg}`) ensures. True when `prefix` has one.
 */
export function hasHashTag(prefix: string): boolean {
  return /\{[^{}]+\}/.test(prefix);
}
