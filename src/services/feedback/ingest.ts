import { feedbackEffects, rowKey, type Disposition } from '../../domain/feedback-effects.js';
import type { FeedbackEvent, FeedbackProvider, ParsedFeedback, QuarantinedInput } from '../../domain/feedback.js';
import type { DatabaseHandle, SqlExecutor } from '../../db/client.js';
import { lockDeployments } from '../../db/queries/deployment-locks.js';
import { ledgerRowsFor, orphansToRetry, recordFeedback, setDispositions, type NewProviderEvent } from '../../db/queries/feedback.js';
import type { Logger } from '../../lib/logger.js';
import { parseDeliveryTag } from '../../domain/message.js';
import { quarantineRow, storableEvent } from './storable-event.js';

/**
 * Stores and counts provider feedback. Requests that arrive while a transaction is committing are
 * gathered into the next one (group commit), so a burst of single-event SNS posts costs a few
 * transactions, not one each. A request's promise settles only when its events are committed:
 * the webhook answers 200 after that, and 5xx (the provider retries) if the commit failed for a
 * reason of ours (the database is down). Events are made storable first (storable-event); should
 * the database still refuse a group's data, the group is halved until the request, and then the
 * event, at fault is found: that event is quarantined (kept raw, counted in a metric) and every
 * other one is stored as usual — one bad event never fails its neighbours, nor is it retried
 * forever. Deduplication is by (provider, event id) in Postgres, so a retry or a replay counts
 * nothing twice.
 */
export interface FeedbackIngestor {
  ingest(parsed: ParsedFeedback): Promise<IngestSummary>;
  /** Applies orphans whose ledger rows have settled since they arrived. */
  retryOrphans(limit?: number): Promise<number>;
  /** Resolves when nothing is waiting or committing. */
  drain(): Promise<void>;
}

export interface IngestSummary {
  received: number;
  duplicates: number;
  dispositions: Record<Disposition | 'quarantined', number>;
  /** Events the database refused as they were, quarantined instead (included in `dispositions.quarantined`). */
  unstorable: number;
  /** Events the database refused even as quarantined rows: not stored at all (logged). */
  lost: number;
}

export type QuarantineCause = NonNullable<QuarantinedInput['cause']>;

const MAX_EVENTS_PER_TRANSACTION = 5000;

function target(event: FeedbackEvent) {
  return parseDeliveryTag(event.deliveryTag ?? '') ?? parseDeliveryTag(event.messageId ?? '');
}

function revive(payload: Record<string, unknown>): FeedbackEvent {
  const event = { ...payload } as unknown as FeedbackEvent;
  if (typeof payload.occurredAt === 'string') event.occurredAt = new Date(payload.occurredAt);
  return event;
}

/**
 * Decides what each event does, under the locks (deployments in id order, then their ledger
 * rows). Re-deciding an event that was already applied finds nothing left to change (the row
 * already shows it), so a replay racing its original cannot count twice.
 */
async function decide(sql: SqlExecutor, events: FeedbackEvent[]) {
  const targets = events.map(target);
  const keys = targets.filter((t) => t !== undefined);
  // Deployments first, in id order, as every ledger writer locks them.
  await lockDeployments(sql, { deploymentIds: [...new Set(keys.map((k) => k.deploymentId))] });
  const rows = new Map((await ledgerRowsFor(sql, keys)).map((r) => [rowKey(r.deploymentId, r.seq), r]));
  const effects = feedbackEffects(events, targets, rows);
  const touched = [...new Set([...rows.values()].map((r) => r.deploymentId))];
  return { targets, effects, touched };
}

function eventRow(event: FeedbackEvent, t: ReturnType<typeof target>, disposition: Disposition): NewProviderEvent {
  return {
    provider: event.provider,
    eventId: event.eventId,
    type: event.kind,
    subtype: event.bounceClass ? `${event.bounceClass}${event.subtype ? `:${event.subtype}` : ''}` : (event.subtype ?? null),
    deploymentId: t?.deploymentId ?? null,
    seq: t?.seq ?? null,
    messageId: event.messageId ?? null,
    recipient: event.recipient ?? null,
    disposition,
    occurredAt: event.occurredAt ?? null,
    payload: JSON.stringify(event),
  };
}

const emptySummary = (): IngestSummary => ({
  received: 0,
  duplicates: 0,
  dispositions: { counted: 0, recorded: 0, orphan: 0, ignored: 0, quarantined: 0 },
  unstorable: 0,
  lost: 0,
});

function addSummaries(a: IngestSummary, b: IngestSummary): IngestSummary {
  const dispositions = { ...a.dispositions };
  for (const [key, n] of Object.entries(b.dispositions)) dispositions[key as keyof typeof dispositions] += n;
  return { received: a.received + b.received, duplicates: a.duplicates + b.duplicates, dispositions, unstorable: a.unstorable + b.unstorable, lost: a.lost + b.lost };
}

/**
 * The database refused the data itself (SQLSTATE class 22 data exception, 23 integrity, 54 a
 * limit such as an index entry's size): trying again would fail again. Anything else (connection
 * lost, a deadlock, a timeout) is ours and temporary.
 */
function refusesData(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^(22|23|54)[0-9A-Z]{3}$/.test(code);
}

const itemCount = (parsed: ParsedFeedback) => parsed.events.length + parsed.quarantined.length;

/** The first or second half of a request's items (events first, then its quarantined inputs). */
function half(parsed: ParsedFeedback, which: 0 | 1): ParsedFeedback {
  const middle = Math.ceil(itemCount(parsed) / 2);
  const [from, to] = which === 0 ? [0, middle] : [middle, Infinity];
  const events = parsed.events.length;
  return { events: parsed.events.slice(from, to), quarantined: parsed.quarantined.slice(Math.max(0, from - events), Math.max(0, to - events)) };
}

/** A refused event (or input), as the quarantined input that keeps it for a person. */
function refusedItem(parsed: ParsedFeedback, error: unknown): QuarantinedInput {
  const reason = `the database refused it: ${String((error as Error)?.message ?? error)}`;
  const event = parsed.events[0];
  if (event) return { provider: event.provider, eventId: event.eventId, reason, raw: { ...event, occurredAt: event.occurredAt?.toISOString() }, cause: 'unstorable' };
  const input = parsed.quarantined[0]!;
  return { ...input, reason: `${input.reason}; ${reason}`, cause: 'unstorable' };
}

export function createFeedbackIngestor(deps: {
  database: DatabaseHandle;
  logger: Logger;
  /** Counts inputs kept aside instead of counted (a metric). */
  onQuarantined?: (provider: FeedbackProvider, cause: QuarantineCause, count: number) => void;
}): FeedbackIngestor {
  const { sql } = deps.database;
  type Waiting = { parsed: ParsedFeedback; resolve: (s: IngestSummary) => void; reject: (e: unknown) => void };
  const waiting: Waiting[] = [];
  let committing: Promise<void> | undefined;

  async function commit(group: ParsedFeedback[]): Promise<IngestSummary[]> {
    const newlyQuarantined: { provider: FeedbackProvider; cause: QuarantineCause }[] = [];
    const summaries = (await sql.begin(async (tx) => {
      const owners = group.flatMap((parsed, request) => parsed.events.map(() => request));
      const events = group.flatMap((parsed) => parsed.events);
      const { targets, effects, touched } = await decide(tx, events);
      const rows = events.map((event, i) => eventRow(event, targets[i], effects.dispositions[i]!));
      const quarantined = group.flatMap((parsed, request) => parsed.quarantined.map((q) => ({ request, q, row: quarantineRow(q) })));
      const inserted = await recordFeedback(tx, {
        events: [...rows, ...quarantined.map((q) => q.row)],
        changes: effects.rows,
        deployments: effects.deployments,
        batches: effects.batches,
        touched,
      });

      const summaries: IngestSummary[] = group.map((parsed) => ({ ...emptySummary(), received: itemCount(parsed) }));
      const seen = new Set<string>();
      const tally = (request: number, row: NewProviderEvent) => {
        const key = `${row.provider}\n${row.eventId}`;
        const summary = summaries[request]!;
        // Stored before, or the same event twice in this very group.
        const fresh = inserted.has(key) && !seen.has(key);
        if (!fresh) summary.duplicates += 1;
        else summary.dispositions[row.disposition as Disposition | 'quarantined'] += 1;
        seen.add(key);
        return fresh;
      };
      rows.forEach((row, i) => tally(owners[i]!, row));
      for (const { request, q, row } of quarantined) {
        if (q.cause === 'unstorable') summaries[request]!.unstorable += 1;
        if (tally(request, row)) newlyQuarantined.push({ provider: q.provider, cause: q.cause ?? 'unreadable' });
      }
      return summaries;
    })) as IngestSummary[];
    for (const { provider, cause } of newlyQuarantined) deps.onQuarantined?.(provider, cause, 1);
    return summaries;
  }

  /**
   * One request whose data the database refused: stored by halves, so every event it can take is
   * stored, and an event refused on its own is quarantined. An event refused even as a quarantined
   * row (never seen; the row is made storable) is counted as lost and logged.
   */
  async function storeByHalves(parsed: ParsedFeedback, refusal: unknown): Promise<IngestSummary> {
    if (itemCount(parsed) === 1) {
      const item = refusedItem(parsed, refusal);
      deps.logger.warn({ provider: item.provider, eventId: item.eventId, reason: item.reason }, 'provider feedback the database refused is quarantined');
      try {
        return (await commit([{ events: [], quarantined: [item] }]))[0]!;
      } catch (error) {
        if (!refusesData(error)) throw error;
        deps.logger.error({ err: error, provider: item.provider, eventId: item.eventId }, 'provider feedback could not be stored, not even quarantined');
        return { ...emptySummary(), received: 1, lost: 1 };
      }
    }
    let total = emptySummary();
    for (const part of [half(parsed, 0), half(parsed, 1)]) {
      try {
        total = addSummaries(total, (await commit([part]))[0]!);
      } catch (error) {
        if (!refusesData(error)) throw error;
        total = addSummaries(total, await storeByHalves(part, error));
      }
    }
    return total;
  }

  /** Commits a group; a group whose data the database refused is halved until the request at fault is alone. */
  async function settle(group: Waiting[]): Promise<void> {
    try {
      const summaries = await commit(group.map((w) => w.parsed));
      group.forEach((w, i) => w.resolve(summaries[i]!));
      return;
    } catch (error) {
      if (!refusesData(error)) {
        deps.logger.warn({ err: error, requests: group.length }, 'could not store provider feedback; the provider will retry');
        group.forEach((w) => w.reject(error));
        return;
      }
      if (group.length > 1) {
        const middle = Math.ceil(group.length / 2);
        await settle(group.slice(0, middle));
        await settle(group.slice(middle));
        return;
      }
      const only = group[0]!;
      await storeByHalves(only.parsed, error).then(only.resolve, (failure: unknown) => {
        deps.logger.warn({ err: failure }, 'could not store provider feedback; the provider will retry');
        only.reject(failure);
      });
    }
  }

  async function flush(): Promise<void> {
    while (waiting.length > 0) {
      const group: Waiting[] = [];
      let size = 0;
      while (waiting.length > 0 && (group.length === 0 || size + itemCount(waiting[0]!.parsed) <= MAX_EVENTS_PER_TRANSACTION)) {
        const next = waiting.shift()!;
        size += itemCount(next.parsed);
        group.push(next);
      }
      await settle(group);
    }
  }

  function schedule() {
    if (committing) return;
    committing = flush().finally(() => {
      committing = undefined;
      if (waiting.length > 0) schedule();
    });
  }

  return {
    ingest(input) {
      if (itemCount(input) === 0) return Promise.resolve(emptySummary());
      const parsed = { events: input.events.map(storableEvent), quarantined: input.quarantined };
      return new Promise<IngestSummary>((resolve, reject) => {
        waiting.push({ parsed, resolve, reject });
        schedule();
      });
    },

    async retryOrphans(limit = 500) {
      const orphans = await orphansToRetry(sql, limit);
      if (orphans.length === 0) return 0;
      const decided = await sql.begin(async (tx) => {
        const { effects, touched } = await decide(tx, orphans.map((o) => revive(o.payload)));
        await recordFeedback(tx, { events: [], changes: effects.rows, deployments: effects.deployments, batches: effects.batches, touched });
        await setDispositions(tx, orphans.map((o) => Number(o.id)), effects.dispositions);
        return effects.dispositions;
      });
      return (decided as Disposition[]).filter((d) => d !== 'orphan').length;
    },

    async drain() {
      while (committing || waiting.length > 0) await committing;
    },
  };
}
