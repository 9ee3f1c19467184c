import { checkEmail } from './email.js';
import type { Kind } from './lifecycle.js';
import { ok, refused, type Result } from './result.js';
import { DEFAULT_SEND_WEIGHT, parseSendPriority } from './send-weight.js';

/** What a new campaign must satisfy before anything is written, whoever asks (CLI, demo, tests). */
export interface CampaignSpecInput {
  name: string;
  kind: Kind;
  deployments?: number;
  subject?: string;
  from?: string;
  sendAt?: Date | 'now' | null;
  batches?: number;
  batchIntervalMs?: number;
  /** `high`, `normal`, `low` or a weight (see send-weight). */
  priority?: string;
}

export interface CampaignSpec {
  name: string;
  kind: Kind;
  deployments: number;
  subject: string;
  from: string;
  sendAt: Date | null;
  batches: number;
  batchIntervalMs: number;
  sendWeight: number;
}

export const LIMITS = { name: 200, subject: 250, deployments: 50, batches: 100, batchIntervalMs: 7 * 24 * 3600_000 } as const;
export const DEFAULT_FROM = 'Campaign Guard <noreply@campaign-guard.local>';
export const DEFAULT_BATCH_INTERVAL_MS = 10 * 60_000;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069]/;

export function checkCampaignSpec(input: CampaignSpecInput, now: Date): Result<CampaignSpec, 'invalid'> {
  const name = input.name.normalize('NFC').trim();
  if (name === '' || name.length > LIMITS.name || CONTROL.test(name)) {
    return refused('invalid', `--name must be 1 to ${LIMITS.name} printable characters`);
  }
  const subject = (input.subject ?? name).normalize('NFC').trim();
  if (subject === '' || subject.length > LIMITS.subject || CONTROL.test(subject)) {
    return refused('invalid', `--subject must be 1 to ${LIMITS.subject} printable characters on one line`);
  }
  const from = (input.from ?? DEFAULT_FROM).trim();
  // One mailbox: a bare address, or a display name (no <, >, comma or quote) and <address>.
  const fromAddress = /^(?:[^<>,"]*|"[^"<>]*")\s*<([^<>]+)>$/.exec(from)?.[1] ?? from;
  if (CONTROL.test(from) || !checkEmail(fromAddress).ok) {
    return refused('invalid', '--from must be an address like news@example.com or "Name <news@example.com>"');
  }
  const deployments = input.deployments ?? (input.kind === 'multi' ? 2 : 1);
  if (input.kind === 'single' && deployments !== 1) {
    return refused('invalid', '--deployments needs --kind multi (a single campaign is one deployment)');
  }
  if (!Number.isInteger(deployments) || deployments < 1 || deployments > LIMITS.deployments) {
    return refused('invalid', `--deployments must be a whole number from 1 to ${LIMITS.deployments}`);
  }
  const batches = input.batches ?? 1;
  if (!Number.isInteger(batches) || batches < 1 || batches > LIMITS.batches) {
    return refused('invalid', `--batches must be a whole number from 1 to ${LIMITS.batches}`);
  }
  const batchIntervalMs = input.batchIntervalMs ?? DEFAULT_BATCH_INTERVAL_MS;
  if (!Number.isInteger(batchIntervalMs) || batchIntervalMs < 1000 || batchIntervalMs > LIMITS.batchIntervalMs) {
    return refused('invalid', '--batch-interval must be from 1s to 7 days (like 10m or 1h30m)');
  }
  const weight = input.priority === undefined ? ok(DEFAULT_SEND_WEIGHT) : parseSendPriority(input.priority);
  if (!weight.ok) return weight;
  let sendAt: Date | null = null;
  if (input.sendAt === 'now') sendAt = now;
  else if (input.sendAt) {
    if (Number.isNaN(input.sendAt.getTime())) return refused('invalid', '--send-at must be an ISO time like 2026-12-01T09:00:00Z');
    if (input.sendAt.getTime() < now.getTime() - 60_000) {
      return refused('invalid', '--send-at is in the past; use --now to send at once');
    }
    sendAt = input.sendAt;
  }
  return ok({ name, kind: input.kind, deployments, subject, from, sendAt, batches, batchIntervalMs, sendWeight: weight.value });
}
