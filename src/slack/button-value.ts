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

export function parseMetadata(raw: unknown): CancelMetadata | undefined {
  if (typeof raw !== 'string' || raw.length > 3000) return undefined;
  try {
    const m = JSON.parse(raw) as Partial<CancelMetadata>;
    if (m.v !== 1 || typeof m.target !== 'string' || !ID_PATTERN.test(m.target) || typeof m.deploymentId !== 'string') return undefined;
    const optional = (v: unknown) => (typeof v === 'string' && /^[A-Za-z0-9.]{1,40}$/.test(v) ? v : null);
    return { v: 1, target: m.target, deploymentId: m.deploymentId, channel: optional(m.channel), ts: optional(m.ts) };
  } catch {
    return undefined;
  }
}
