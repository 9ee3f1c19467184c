import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import type { ListenerDeps } from '../support.js';

/** The Home tab opened: publish the activity monitor for this user (permission is checked there). */
type Args = SlackEventMiddlewareArgs<'app_home_opened'> & AllMiddlewareArgs;

export function appHomeOpened(deps: ListenerDeps) {
  return async ({ event, body }: Args): Promise<void> => {
    if (event.tab !== 'home') return;
    const teamId = (body as { team_id?: string }).team_id ?? null;
    await deps.publishHome(event.user, teamId).catch((error: unknown) => deps.logger.warn({ err: error }, 'could not publish App Home'));
  };
}
