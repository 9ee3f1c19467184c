import type { App } from '@slack/bolt';
import { ACTIONS } from '../../button-value.js';
import type { ListenerDeps } from '../support.js';
import { acknowledgeButton } from './acknowledge-button.js';
import { cancelButton } from './cancel-button.js';
import { linkButton } from './link-button.js';
import { snoozeSelect } from './snooze-select.js';
import { controlButton } from './control-button.js';
import { statusButton } from './status-button.js';
import { viewCampaignButton } from './view-campaign-button.js';

export function registerActions(app: App, deps: ListenerDeps): void {
  app.action(ACTIONS.cancel, cancelButton(deps));
  app.action(ACTIONS.pause, controlButton(deps, 'pause'));
  app.action(ACTIONS.resume, controlButton(deps, 'resume'));
  app.action(ACTIONS.status, statusButton(deps));
  app.action(ACTIONS.view, viewCampaignButton(deps));
  app.action(ACTIONS.acknowledge, acknowledgeButton(deps));
  app.action(ACTIONS.snooze, snoozeSelect(deps));
  app.action(ACTIONS.runbook, linkButton());
  app.action(ACTIONS.dashboard, linkButton());
}
