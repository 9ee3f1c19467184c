import type { types } from '@slack/bolt';
import type { ActiveDeployment } from '../../services/status.js';
import { ACTIONS, buttonValue } from '../button-value.js';
import { clip } from '../format.js';
import { context, divider, section, type Block } from './common.js';
import { deploymentLine } from './status.js';

/** App Home: the activity monitor, with a View button per deployment. */
const MAX_ROWS = 40;

export function homeView(rows: ActiveDeployment[], at: Date): types.HomeView {
  const blocks: Block[] = [{ type: 'header', text: { type: 'plain_text', text: 'Activity monitor' } }];
  if (rows.length === 0) blocks.push(section(':zzz: Nothing is sending or scheduled right now.'));
  for (const r of rows.slice(0, MAX_ROWS)) {
    blocks.push({
      type: 'section',
      block_id: `row_${r.deployment.id}`,
      text: { type: 'mrkdwn', text: clip(deploymentLine(r.campaign.name, r.deployment)) },
      accessory: { type: 'button', text: { type: 'plain_text', text: 'View' }, action_id: ACTIONS.view, value: buttonValue(r.campaign.id) },
    });
  }
  if (rows.length > MAX_ROWS) blocks.push(context(`…and ${rows.length - MAX_ROWS} more; use /campaign status`));
  blocks.push(divider(), context(`Updated ${at.toISOString().replace(/\.\d{3}Z$/, 'Z')} · refreshed as deployments change`));
  return { type: 'home', blocks };
}
