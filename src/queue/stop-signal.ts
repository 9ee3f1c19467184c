import type { RedisClient } from './redis.js';
import type { SqlExecutor } from '../db/client.js';
import { statusesOf } from '../db/queries/deployments.js';
import { STATUS } from '../domain/lifecycle.js';
import type { Logger } from '../lib/logger.js';
import { causeOf, createLogLimiter } from '../lib/log-limiter.js';
import type { StopAnnouncer, StopState, StopWatcher } from '../services/ports.js';

/**
 * How a stop (pause or cancel) reaches the workers at once. Postgres decides; after the commit the
 * deciding process publishes on Redis, and every worker keeps an in-memory set of stopped
 * deployments that it checks before every hand-off to the transport. The set is also refreshed
 * from Postgres at least every `pollMs` (for the deployments the worker is sending) and on every
 * Redis reconnect, so a lost message or a Redis outage delays a stop by at most a poll.
 */
export const stopChannel = (prefix: string) => `${prefix}:stops`;
const ANNOUNCE_WAIT_MS = 250;

export function createStopAnnouncer(deps: { redis: RedisClient | undefined; prefix: string; logger: Logger }): StopAnnouncer {
  return {
    async announce(deploymentIds, state) {
      if (!deps.redis || deploymentIds.length === 0) return;
      try {
        // A frozen Redis must not hold up the answer to a responder: give it a moment, no more.
        // `at`: right after the commit; workers count the hand-offs they made after it.
        const published = deps.redis.publish(stopChannel(deps.prefix), JSON.stringify({ deploymentIds, state, at: Date.now() }));
        published.catch(() => undefined);
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<'late'>((resolve) => {
          timer = setTimeout(() => resolve('late'), ANNOUNCE_WAIT_MS);
        });
        const result = await Promise.race([published, late]);
        clearTimeout(timer);
        if (result === 'late') deps.logger.warn({ deploymentIds, state }, 'Redis is slow to take a stop; workers will see it within a poll');
      } catch (error) {
        // Postgres already decided; workers pick it up on their next poll.
        deps.logger.warn({ err: error, deploymentIds, state }, 'could not publish a stop; workers will see it within a poll');
      }
    },
  };
}

export function createStopWatcher(deps: {
  subscriber: RedisClient | undefined;
  prefix: string;
  sql: SqlExecutor;
  logger: Logger;
  pollMs?: number;
}): StopWatcher {
  const stopped = new Set<string>();
  const stoppedAt = new Map<string, number>();
  const watched = new Map<string, number>();
  const channel = stopChannel(deps.prefix);
  // Messages counted, and the count at each deployment's last one: a refresh that began before a
  // message about a deployment must not undo it (a read from before a resume re-stopping it).
  let messages = 0;
  const lastMessage = new Map<string, number>();
  let running: Promise<void> | undefined;
  let next: Promise<void> | undefined;

  const refreshFailures = createLogLimiter(deps.logger);
  const readStatuses = async () => {
    const startedAt = messages;
    try {
      const ids = [...watched.keys()];
      for (const row of await statusesOf(deps.sql, ids)) {
        if ((lastMessage.get(row.id) ?? 0) > startedAt) continue;
        if (row.status === STATUS.sending) stopped.delete(row.id);
        else {
          stopped.add(row.id);
          if (row.stopped_at !== null && !stoppedAt.has(row.id)) stoppedAt.set(row.id, Number(row.stopped_at));
        }
      }
    } catch (error) {
      refreshFailures.warn(causeOf(error), { err: error }, 'could not refresh stopped deployments');
    }
  };
  // A caller gets a read that begins after its call: one in flight may predate what it must see
  // (a resume that just queued its job). Callers meanwhile share the one queued after it.
  const refresh = (): Promise<void> => {
    if (!running) {
      running = readStatuses().finally(() => {
        running = undefined;
      });
      return running;
    }
    next ??= running.then(() => {
      next = undefined;
      return refresh();
    });
    return next;
  };

  const onMessage = (from: string, text: string) => {
    if (from !== channel) return;
    try {
      const { deploymentIds, state, at } = JSON.parse(text) as { deploymentIds: string[]; state: StopState; at?: number };
      messages++;
      for (const id of deploymentIds) {
        // Only what a job of this worker is sending: a stop that arrives late (a pause announced
        // after its resume) must not stop the next job of a deployment sending again. A job that
        // starts after a real stop learns it from Postgres: its claims are refused.
        if (!watched.has(id)) continue;
        lastMessage.set(id, messages);
        if (state === 'resumed') {
          stopped.delete(id);
          stoppedAt.delete(id);
        } else {
          stopped.add(id);
          if (typeof at === 'number') stoppedAt.set(id, at);
        }
      }
    } catch {
      deps.logger.warn({ text: text.slice(0, 200) }, 'ignored a malformed stop message');
    }
  };

  if (deps.subscriber) {
    deps.subscriber.on('message', onMessage);
    deps.subscriber.on('ready', () => void refresh());
    deps.subscriber.subscribe(channel).catch((error) => deps.logger.warn({ err: error }, 'could not subscribe to stops'));
  }
  const timer = setInterval(() => {
    if (watched.size > 0) void refresh();
  }, deps.pollMs ?? 500);
  timer.unref();

  return {
    isStopped: (deploymentId) => stopped.has(deploymentId),
    stoppedAt: (deploymentId) => stoppedAt.get(deploymentId),
    watch(deploymentId) {
      watched.set(deploymentId, (watched.get(deploymentId) ?? 0) + 1);
      return () => {
        const left = (watched.get(deploymentId) ?? 1) - 1;
        if (left > 0) watched.set(deploymentId, left);
        else {
          watched.delete(deploymentId);
          stopped.delete(deploymentId);
          stoppedAt.delete(deploymentId);
          lastMessage.delete(deploymentId);
        }
      };
    },
    refresh,
    async close() {
      clearInterval(timer);
      deps.subscriber?.removeListener('message', onMessage);
      await deps.subscriber?.unsubscribe(channel).catch(() => undefined);
    },
  };
}
