/** The books of a deployment or batch, as every answer (Slack, CLI, JSON) reports them. */
export interface DeliveryCounts {
  total: number;
  pending: number;
  inFlight: number;
  sent: number;
  bounced: number;
  failed: number;
  unknown: number;
  cancelled: number;
}

export interface StoredCounters {
  totalCount: number;
  inFlightCount: number;
  sentCount: number;
  bouncedCount: number;
  failedCount: number;
  unknownCount: number;
  cancelledCount: number;
}

export function countsFrom(c: StoredCounters): DeliveryCounts {
  const settled = c.inFlightCount + c.sentCount + c.bouncedCount + c.failedCount + c.unknownCount + c.cancelledCount;
  return {
    total: c.totalCount,
    pending: Math.max(0, c.totalCount - settled),
    inFlight: c.inFlightCount,
    sent: c.sentCount,
    bounced: c.bouncedCount,
    failed: c.failedCount,
    unknown: c.unknownCount,
    cancelled: c.cancelledCount,
  };
}

export function sumCounts(all: DeliveryCounts[]): DeliveryCounts {
  const zero: DeliveryCounts = { total: 0, pending: 0, inFlight: 0, sent: 0, bounced: 0, failed: 0, unknown: 0, cancelled: 0 };
  return all.reduce(
    (acc, c) => ({
      total: acc.total + c.total,
      pending: acc.pending + c.pending,
      inFlight: acc.inFlight + c.inFlight,
      sent: acc.sent + c.sent,
      bounced: acc.bounced + c.bounced,
      failed: acc.failed + c.failed,
      unknown: acc.unknown + c.unknown,
      cancelled: acc.cancelled + c.cancelled,
    }),
    zero,
  );
}
