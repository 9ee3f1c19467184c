import type { App } from '@slack/bolt';
import type { ListenerDeps } from '../support.js';
import { campaignCommand } from './campaign.js';

export function registerCommands(app: App, deps: ListenerDeps): void {
  app.command('/campaign', campaignCommand(deps));
}
