import type { DatabaseHandle } from '../../src/db/client.js';
import { newId } from '../../src/lib/ids.js';

/**
 * A fixture for tests about alert messages (stale buttons, Slack failures): inserts exactly what
 * the monitor inserts for an alert that opens (the alert row and, in the same transaction, its
 * outbox `post` row) or escalates / resolves (the row changed, and an outbox `update` row). The
 * monitor itself is exercised end to end by the cancel story and the alert-spike e2e tests.
 */
export interface TestAlert {
  metric?: 'bounce' | 'error' | 'complaint';
  severity?: 'warning' | 'critical';
  rate?: number;
  sample?: number;
  threshold?: number;
  topDomains?: { domain: string; count: number }[];
  autoPaused?: string | null;
}

export async function openAlertForTest(database: DatabaseHandle, deploymentId: string, alert: TestAlert = {}): Promise<string> {
  const id = newId('alert');
  const rate = alert.rate ?? 0.061;
  const sample = alert.sample ?? 1200;
  const stats = {
    bounce: { rate, sample, windowRate: rate * 1.2, windowSample: 300 },
    error: { rate: 0.004, sample, windowRate: null, windowSample: null },
    complaint: { rate: 0, sample, windowRate: null, windowSample: null },
  };
  await database.sql.begin(async (tx) => {
    await tx`
      insert into alerts (id, deployment_id, metric, severity, state, rate, sample, threshold, stats, top_domains, auto_paused)
      values (${id}, ${deploymentId}, ${alert.metric ?? 'bounce'}, ${alert.severity ?? 'warning'}, 'open', ${rate}, ${sample}, ${alert.threshold ?? 0.05},
        ${JSON.stringify(stats)}::jsonb, ${JSON.stringify(alert.topDomains ?? [{ domain: 'mailinator.com', count: 40 }, { domain: 'example.org', count: 12 }])}::jsonb, ${alert.autoPaused ?? null})`;
    await tx`
      insert into slack_outbox (kind, dedupe_key, alert_id, payload)
      values ('post', ${`alert:${id}:opened`}, ${id}, ${JSON.stringify({ type: 'alert', alertId: id, change: 'opened' })}::jsonb)`;
  });
  return id;
}

export async function changeAlertForTest(database: DatabaseHandle, alertId: string, change: 'escalated' | 'resolved', rate = 0.12): Promise<void> {
  await database.sql.begin(async (tx) => {
    const [row] =
      change === 'escalated'
        ? await tx<{ severity: string }[]>`update alerts set severity = 'critical', rate = ${rate}, escalated_at = now(), updated_at = now() where id = ${alertId} returning severity`
        : await tx<{ severity: string }[]>`update alerts set state = 'resolved', rate = ${rate}, resolved_at = now(), updated_at = now() where id = ${alertId} returning severity`;
    await tx`
      insert into slack_outbox (kind, dedupe_key, alert_id, payload)
      values ('update', ${`alert:${alertId}:${change}:${row!.severity}`}, ${alertId}, ${JSON.stringify({ type: 'alert', alertId, change })}::jsonb)`;
  });
}
