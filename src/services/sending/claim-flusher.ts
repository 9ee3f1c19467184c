import type { SqlExecutor } from '../../db/client.js';
import { settleAndClaim, type ClaimRange, type SettledRow } from '../../db/queries/claims.js';
import type { Logger } from '../../lib/logger.js';
import { sleep } from '../../lib/processes.js';

/**
 * A worker's writes to the ledger, group-committed: a claim a lane asks for, the outcomes lanes
 * learned, the rows they gave back, all go in the next statement, one statement at a time, for
 * every send job the worker has open, whatever deployment or batch it sends (the statement locks
 * each deployment it touches and checks each claim against its own deployment and batch). While
 * one runs, the next one's requests gather; and a statement waits (at most `gatherMs`) until
 * every lane that will ask soon has asked, since the lanes the last one answered are about to ask
 * again: one statement for all of them costs Postgres and the sender about what one for a few
 * does, and otherwise the lanes settle into groups taking turns, several statements per lane-full.
 * So N deployments sharing the lanes cost no more statements per message than one alone. A claim
 * is asked for as its message's envelope starts and needed only at its end of data, so the wait
 * is hidden behind SMTP's round trips unless the server answers instantly. A claim's answer:
 * - `claimed`: committed; the lane may complete its message;
 * - `refused`: the row is not ours to send (someone else holds it, another lane asked for it
 *   first, or its deployment or batch stopped);
 * - `unknown`: the statement failed, maybe after its commit; its claims are undone by the next
 *   statement (each statement claims under its own token), and the row may be asked for again.
 * Outcomes already happened: if Postgres is unreachable they stay queued here (their rows stay
 * claimed, so nothing is sent twice) and are retried, for up to ten minutes.
 */
export type ClaimAnswer = 'claimed' | 'refused' | 'unknown';

export interface ClaimFlusher {
  claim(range: ClaimRange, seq: number): Promise<ClaimAnswer>;
  settle(deploymentId: string, row: SettledRow): void;
  release(deploymentId: string, seq: number): void;
  /**
   * Resolves once everything recorded so far (outcomes, given-back rows, undoing lost claims) is
   * committed. Claims still gathering are not hurried: they carry the outcomes in a moment, or the
   * outcomes go alone.
   */
  committed(): Promise<void>;
  /** Postgres did not answer for ten minutes: every claim and wait fails from then on (see open-send-jobs). */
  failed(): boolean;
}

interface Wanted {
  range: ClaimRange;
  seq: number;
  answer: (answer: ClaimAnswer) => void;
}

export function createClaimFlusher(deps: {
  sql: SqlExecutor;
  nextToken: () => string;
  leaseSeconds: number;
  logger: Logger;
  /** How long an outcome may wait for a claim to travel with before it is written on its own. */
  lingerMs?: number;
  /**
   * How many lanes will ask for a claim soon (holding a slot, with rows left to take); without it
   * one, and no claim waits for others.
   */
  lanesAsking?: () => number;
  /** How long a claim may wait for the other lanes' claims before its statement goes. */
  gatherMs?: number;
}): ClaimFlusher {
  // Keyed by batch and seq: rows of different deployments share seqs.
  const wanted = new Map<string, Wanted>();
  const settled: { deploymentId: string; row: SettledRow }[] = [];
  const released: { deploymentId: string; seq: number }[] = [];
  const voided: { token: string; deploymentIds: string[] }[] = [];
  let running: Promise<void> | undefined;
  let lingering: NodeJS.Timeout | undefined;
  let gathering: NodeJS.Timeout | undefined;
  let failures = 0;
  let fatal: unknown;
  // Writes recorded (outcomes, given-back rows, lost claims to undo), and of them committed: each
  // statement carries every write recorded before it began, so the count is enough.
  let recorded = 0;
  let written = 0;
  const waiters: { upTo: number; resolve: () => void; reject: (error: unknown) => void }[] = [];
  const failAll = (error: unknown) => {
    for (const waiter of waiters.splice(0)) waiter.reject(error);
  };

  const hasWork = () => wanted.size > 0 || settled.length > 0 || released.length > 0 || voided.length > 0;
  // Every lane that will ask soon has asked: no more claims will join the next statement.
  const allAsked = () => wanted.size >= (deps.lanesAsking?.() ?? 1);

  const statement = async () => {
    // Undoing a lost claim goes first, alone: a row it gives back cannot be claimed again in the
    // same statement (the statement sees the row as it was when it began).
    const asked = voided.length > 0 ? [] : [...wanted.values()];
    if (voided.length === 0) wanted.clear();
    const outcomes = settled.splice(0);
    const givenBack = released.splice(0);
    const undo = voided.splice(0);
    const claimToken = deps.nextToken();
    try {
      const claimed = await settleAndClaim(deps.sql, {
        claims: asked, claimToken, leaseSeconds: deps.leaseSeconds, settled: outcomes, released: givenBack, voided: undo,
      });
      failures = 0;
      const got = new Set(claimed.map((r) => `${r.batchId}/${r.seq}`));
      for (const ask of asked) ask.answer(got.has(`${ask.range.batchId}/${ask.seq}`) ? 'claimed' : 'refused');
      written += outcomes.length + givenBack.length + undo.length;
      for (let i = waiters.length - 1; i >= 0; i--) if (waiters[i]!.upTo <= written) waiters.splice(i, 1)[0]!.resolve();
    } catch (error) {
      settled.unshift(...outcomes);
      released.unshift(...givenBack);
      // The connection may have died after the commit: rows may be claimed that no lane holds.
      voided.push(...undo);
      if (asked.length > 0) {
        voided.push({ token: claimToken, deploymentIds: [...new Set(asked.map((a) => a.range.deploymentId))] });
        recorded++;
      }
      for (const ask of asked) ask.answer('unknown');
      if (++failures >= 600) {
        fatal = error;
        failAll(error);
        return;
      }
      if (failures === 1 || failures % 30 === 0) deps.logger.warn({ err: error, failures }, 'could not record send outcomes yet; retrying');
      await sleep(1000);
    }
  };

  const kick = () => {
    if (lingering) clearTimeout(lingering);
    if (gathering) clearTimeout(gathering);
    lingering = undefined;
    gathering = undefined;
    if (running) return;
    running = (async () => {
      while (hasWork() && fatal === undefined) {
        await statement();
        // The lanes just answered are about to ask again: the next statement waits for them.
        if (wanted.size > 0 && !allAsked() && voided.length === 0) break;
      }
    })().finally(() => {
      running = undefined;
      // Work that arrived after the loop's last look found it still running: take it now.
      if (hasWork() && fatal === undefined) schedule();
    });
  };

  /** The next statement: now if every lane has asked (or a lost claim must be undone), else soon. */
  const schedule = () => {
    if (running) return;
    if (voided.length > 0 || (wanted.size > 0 && allAsked())) return kick();
    if (wanted.size > 0) gathering ??= setTimeout(kick, deps.gatherMs ?? 3);
    // Someone waits for the outcomes and no claims statement is gathering to carry them: now.
    else if (waiters.length > 0) kick();
    else lingering ??= setTimeout(kick, deps.lingerMs ?? 20);
  };
  const failure = () => Promise.reject(fatal instanceof Error ? fatal : new Error(String(fatal)));

  return {
    claim(range, seq) {
      // Ten minutes without Postgres: the job fails (and is retried by the queue) rather than wait on.
      if (fatal !== undefined) return failure();
      // Two open jobs of one range (a resumed job beside one that missed the pause) can ask for
      // the same row: it is the first asker's; the second is refused, as it would be by Postgres.
      const key = `${range.batchId}/${seq}`;
      if (wanted.has(key)) return Promise.resolve('refused');
      return new Promise<ClaimAnswer>((answer) => {
        wanted.set(key, { range, seq, answer });
        schedule();
      });
    },
    settle(deploymentId, row) {
      settled.push({ deploymentId, row });
      recorded++;
      // Usually a lane's next claim carries it; if none comes soon, it goes alone.
      lingering ??= setTimeout(kick, deps.lingerMs ?? 20);
    },
    release(deploymentId, seq) {
      released.push({ deploymentId, seq });
      recorded++;
      lingering ??= setTimeout(kick, deps.lingerMs ?? 20);
    },
    committed() {
      if (fatal !== undefined) return failure();
      if (written >= recorded) return Promise.resolve();
      const upTo = recorded;
      return new Promise<void>((resolve, reject) => {
        waiters.push({ upTo, resolve, reject });
        schedule();
      });
    },
    failed: () => fatal !== undefined,
  };
}
