import { clip, escape } from '../format.js';
import type { RenderedMessage } from './alert.js';
import { context, section } from './common.js';

/** A deployment Campaign Guard paused because it cannot be sent as it is (services/sending/deployment-faults). */
export interface DeploymentFaultPayload {
  type: 'deployment_fault';
  deploymentId: string;
  deploymentName: string;
  campaignName: string;
  cause: string;
}

export function renderDeploymentFault(p: DeploymentFaultPayload): RenderedMessage {
  const text =
    `:warning: *${escape(p.campaignName)}* — ${escape(p.deploymentName)} was *paused* by Campaign Guard: ${escape(p.cause)}. ` +
    'Nothing more is sent until it is resumed: fix the cause first (resuming as it is pauses it again), or cancel it.';
  return { text: clip(text, 3000), blocks: [section(clip(text), 'deployment_fault'), context(`deployment \`${escape(p.deploymentId)}\``)] };
}
