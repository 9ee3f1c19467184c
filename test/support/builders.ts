import { Readable } from 'node:stream';
import { checkCampaignSpec, type CampaignSpecInput } from '../../src/domain/campaign-spec.js';
import type { DatabaseHandle } from '../../src/db/client.js';
import { createCampaignCreator, type CreateCampaignInput } from '../../src/services/campaigns/create-campaign.js';

/** Test data builders: campaigns go through the real import service, as production's do. */
export function csv(lines: string[]): string {
  return `${lines.join('\n')}\n`;
}

export function audienceCsv(count: number, options: { columns?: string[]; domain?: (i: number) => string } = {}): string {
  const columns = options.columns ?? ['email', 'first_name'];
  const lines = [columns.join(',')];
  for (let i = 1; i <= count; i++) {
    const domain = options.domain?.(i) ?? 'example.com';
    lines.push(columns.map((c) => (c === 'email' ? `user${i}@${domain}` : `${c}-${i}`)).join(','));
  }
  return csv(lines);
}

export type CampaignOverrides = Partial<CampaignSpecInput> & Partial<Pick<CreateCampaignInput, 'strict' | 'actor' | 'body'>> & { csv?: string };

export async function createCampaign(database: DatabaseHandle, overrides: CampaignOverrides = {}, now = new Date()) {
  const spec = checkCampaignSpec({ name: 'Test campaign', kind: 'single', sendAt: 'now', ...overrides }, now);
  if (!spec.ok) throw new Error(spec.reason);
  const create = createCampaignCreator({ database, clock: () => now });
  return create({
    ...spec.value,
    body: overrides.body ?? 'Hello {{first_name}}',
    strict: overrides.strict ?? false,
    actor: overrides.actor ?? 'tester',
    recipients: Readable.from([overrides.csv ?? audienceCsv(10)]),
  });
}

export async function createCampaignOrThrow(database: DatabaseHandle, overrides: CampaignOverrides = {}, now = new Date()) {
  const outcome = await createCampaign(database, overrides, now);
  if (!outcome.ok) throw new Error(`${outcome.code}: ${outcome.reason}`);
  return outcome.value;
}

