import { feedbackEffects, rowKey, type Disposition } from '../../domain/feedback-effects.js';
import type { FeedbackEvent, ParsedFeedback, QuarantinedInput } from '../../domain/feedback.js';
import type { DatabaseHandle, SqlExecutor } from '../../db/client.js';
import { lockDeployments } from '../../db/queries/cancellation.js';
import { ledgerRowsFor, orphansToRetry, recordFeedback, setDispositions, type NewProviderEvent } from '../../db/queries/feedback.js';
import type { Logger } from '../../lib/logger.js';
import { parseDeliveryTag } from '../../mail/message.js';

/**
 * Stores and counts provider feedback. Requests that arrive while a transaction is committing are
 * gathered into the next one (group commit), so a burst of single-event SNS posts costs a few
 * transactions, not one each. A request's promise settles only when its events are committed:
 * the webhook answers 200 after that, and 5xx (the provider retries) if the commit failed.
 * Deduplication is by (provider, event id) in Postgres, so a retry or a replay counts nothing twice.
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
}

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

const quarantineRow = (q: QuarantinedInput): NewProviderEvent => ({
  provider: q.provider, eventId: q.eventId, type: 'unparsed', subtype: null, deploymentId: null, seq: null, messageId: null,
  recipient: null, disposition: 'quarantined', occurredAt: null, payload: JSON.stringify({ reason: q.reason, raw: q.raw }),
});

export function createFeedbackIngestor(deps: { database: DatabaseHandle; logger: Logger }): FeedbackIngestor {
  const { sql } = deps.database;
  type Waiting = { parsed: ParsedFeedback; resolve: (s: IngestSummary) => void; reject: (e: unknown) => void };
  const waiting: Waiting[] = [];
  let committing: Promise<void> | undefined;

  async function commit(group: Waiting[]): Promise<IngestSummary[]> {
    return (await sql.begin(async (tx) => {
      const owners = group.flatMap(({ parsed }, request) => parsed.events.map(() => request));
      const events = group.flatMap(({ parsed }) => parsed.events);
      const { targets, effects, touched } = await decide(tx, events);
      const rows = events.map((event, i) => eventRow(event, targets[i], effects.dispositions[i]!));
      const quarantined = group.flatMap(({ parsed }, request) => parsed.quarantined.map((q) => ({ request, row: quarantineRow(q) })));
      const inserted = await recordFeedback(tx, {
        events: [...rows, ...quarantined.map((q) => q.row)],
        changes: effects.rows,
        deployments: effects.deployments,
        batches: effects.batches,
        touched,
      });

      const summaries: IngestSummary[] = group.map(({ parsed }) => ({
        received: parsed.events.length + parsed.quarantined.length,
        duplicates: 0,
        dispositions: { counted: 0, recorded: 0, orphan: 0, ignored: 0, quarantined: 0 },
      }));
      const seen = new Set<string>();
      const tally = (request: number, row: NewProviderEvent) => {
        const key = `${row.provider}\n${row.eventId}`;
        const summary = summaries[request]!;
        // Stored before, or the same event twice in this very group.
        if (!inserted.has(key) || seen.has(key)) summary.duplicates += 1;
        else summary.dispositions[row.disposition as Disposition | 'quarantined'] += 1;
        seen.add(key);
      };
      rows.forEach((row, i) => tally(owners[i]!, row));
      quarantined.forEach((q) => tally(q.request, q.row));
      return summaries;
    })) as IngestSummary[];
  }

  async function flush(): Promise<void> {
    while (waiting.length > 0) {
      const group: Waiting[] = [];
      let size = 0;
      while (waiting.length > 0 && (group.length === 0 || size + waiting[0]!.parsed.events.length <= MAX_EVENTS_PER_TRANSACTION)) {
        const next = waiting.shift()!;
        size += next.parsed.events.length + next.parsed.quarantined.length;
        group.push(next);
      }
      try {
        const summaries = await commit(group);
        group.forEach((w, i) => w.resolve(summaries[i]!));
      } catch (error) {
        deps.logger.warn({ err: error, requests: group.length }, 'could not store provider feedback; the provider will retry');
        group.forEach((w) => w.reject(error));
      }
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
    ingest(parsed) {
      if (parsed.events.length === 0 && parsed.quarantined.length === 0) {
        return Promise.resolve({ received: 0, duplicates: 0, dispositions: { counted: 0, recorded: 0, orphan: 0, ignored: 0, quarantined: 0 } });
      }
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
