import { ConfigError } from '../lib/config-error.js';
import { hasHashTag, parseRedisUrl } from '../lib/redis-url.js';
import { parseSmtpUrl } from '../lib/smtp-url.js';

/** Checks of the connection variables that look at more than one value or at the whole URL. */

/** SMTP_URL's settings (TLS mode, credentials) are checked by the transport's own parser. */
export function checkSmtpUrl(smtpUrl: string | undefined): void {
  if (!smtpUrl) return;
  const smtp = parseSmtpUrl(smtpUrl);
  if (!smtp.ok) throw new ConfigError('SMTP_URL', smtp.problem);
}

/**
 * On a Cluster, BullMQ's scripts need every key of a queue in one slot: the default prefix is
 * then hash-tagged, and a prefix without a hash tag is refused.
 */
export function redisPrefix(e: { REDIS_URL?: string | undefined; REDIS_PREFIX?: string | undefined }): string {
  const cluster = e.REDIS_URL !== undefined && (parseRedisUrl(e.REDIS_URL) as { kind?: string }).kind === 'cluster';
  if (!cluster) return e.REDIS_PREFIX ?? 'cg';
  if (e.REDIS_PREFIX !== undefined && !hasHashTag(e.REDIS_PREFIX)) {
    throw new ConfigError('REDIS_PREFIX', 'must contain a hash tag like {cg} when REDIS_URL names a Cluster (every key of a queue must be in one slot)');
  }
  return e.REDIS_PREFIX ?? '{cg}';
}
