import { RELAY_FAULT_OPEN } from '../../domain/relay-fault-states.js';
import type { RelayFaultView } from '../../db/queries/relay-faults.js';
import { ACTIONS, buttonValue } from '../button-value.js';
import { actorMention, clip, count, escape, slackDate } from '../format.js';
import type { RenderedMessage } from './alert.js';
import { button, context, section, type Block } from './common.js';

/**
 * The relay-fault alert, rendered from the current state at delivery time: the cause in the
 * relay's own words (escaped), what was paused and how many recipients wait, that nobody was
 * marked failed, and Resume while the fault is open. Once resumed, who did it and when.
 */
const LISTED = 10;

export function renderRelayFault(f: RelayFaultView): RenderedMessage {
  const waiting = f.deployments.reduce((sum, d) => sum + d.waiting, 0);
  const open = f.state === RELAY_FAULT_OPEN;
  const headline = open
    ? `:rotating_light: *Sending paused: the SMTP relay is failing.* ${escape(f.cause)}`
    : `:arrow_forward: *SMTP relay fault resumed* by ${actorMention(f.resumed_by)} at ${slackDate(f.resumed_at)}. Last cause: ${escape(f.cause)}`;
  const listed = f.deployments.slice(0, LISTED).map((d) => `• *${escape(d.campaign_name)}* / ${escape(d.name)} (\`${d.id}\`): ${d.status}, ${count(d.waiting)} waiting`);
  if (f.deployments.length > LISTED) listed.push(`… and ${count(f.deployments.length - LISTED)} more`);
  const blocks: Block[] = [
    section(clip(headline), 'relay_fault_summary'),
    section(
      clip(
        `Paused by Campaign Guard at ${slackDate(f.opened_at)}: ${count(f.deployments.length)} deployment${f.deployments.length === 1 ? '' : 's'}. ` +
          `No recipient was marked failed: ${count(waiting)} wait${waiting === 1 ? 's' : ''} and will be sent once resumed.\n${listed.join('\n')}`,
      ),
      'relay_fault_deployments',
    ),
  ];
  if (open) {
    blocks.push({ type: 'actions', block_id: 'relay_fault_actions', elements: [button('Resume', ACTIONS.resume, buttonValue(f.id), 'primary')] });
    blocks.push(context('Fix the relay (credentials, certificate, firewall), then Resume: every deployment above that is still paused by this fault carries on where it stopped. If the relay still fails, sending pauses again.'));
  }
  blocks.push(context(`Relay fault \`${f.id}\` · opened ${slackDate(f.opened_at)}${f.resumed_at ? ` · resumed ${slackDate(f.resumed_at)}` : ''}`));
  const text = open
    ? `Sending paused: the SMTP relay is failing (${f.cause}). ${f.deployments.length} deployment(s) paused, ${waiting} recipients waiting, none failed.`
    : `SMTP relay fault resumed by ${f.resumed_by ?? 'someone'}.`;
  return { text: escape(text), blocks };
}
