import { ID_PATTERN } from '../lib/ids.js';

/**
 * What a button carries: a version tag and the id it is about, nothing else. It says which
 * deployment or campaign the click is about, never who may act (that is read from the signed
 * request and the operators table). A value of another version or shape is refused.
 */
export const ACTIONS = {
  cancel: 'cancel_deployment',
  pause: 'pause_deployment',
  resume: 'resume_deployment',
  status: 'deployment_status',
  view: 'view_campaign',
  acknowledge: 'acknowledge_alert',
  snooze: 'snooze_alert',
  /** Link buttons (runbook, dashboard): Slack opens the URL and still sends a click, which is acknowledged with nothing. */
  runbook: 'open_alert_runbook',
  dashboard: 'open_alert_dashboard',
} as const;

export const CANCEL_CALLBACK = 'cancel_deployment_confirm';

export function buttonValue(id: string): string {
  return `v1:${id}`;
}

export function parseButtonValue(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^v1:(.+)$/.exec(value);
  return match && ID_PATTERN.test(match[1]!) ? match[1] : undefined;
}

/** The modal's private_metadata: what the submit needs, since a view_submission carries no channel or message. */
export interface CancelMetadata {
  v: 1;
  target: string;
  deploymentId: string;
  channel: string | null;
  ts: string | null;
}

export function encodeMetadata(m: Omit<CancelMetadata, 'v'>): string {
  return JSON.stringify({ v: 1, ...m });
}

/** Anything but our own shape (another version, a field of the wrong kind or form) is refused, not repaired. */
export function parseMetadata(raw: unknown): CancelMetadata | undefined {
  if (typeof raw !== 'string' || raw.length > 3000) return undefined;
  let m: Partial<Record<keyof CancelMetadata, unknown>>;
  try {
    m = JSON.parse(raw) as typeof m;
  } catch {
    return undefined;
  }
  if (typeof m !== 'object' || m === null || Array.isArray(m) || m.v !== 1) return undefined;
  const id = (v: unknown) => typeof v === 'string' && ID_PATTERN.test(v);
  const optional = (v: unknown) => v === null || v === undefined || (typeof v === 'string' && /^[A-Z0-9]{2,20}$|^\d{1,12}\.\d{1,8}$/.test(v));
  if (!id(m.target) || !id(m.deploymentId) || !optional(m.channel) || !optional(m.ts)) return undefined;
  return { v: 1, target: m.target as string, deploymentId: m.deploymentId as string, channel: (m.channel as string | null | undefined) ?? null, ts: (m.ts as string | null | undefined) ?? null };
}
