import type { App } from '@slack/bolt';
import { CANCEL_CALLBACK } from '../../button-value.js';
import type { ListenerDeps } from '../support.js';
import { cancelSubmit } from './cancel-submit.js';

export function registerViews(app: App, deps: ListenerDeps): void {
  app.view(CANCEL_CALLBACK, cancelSubmit(deps));
}
