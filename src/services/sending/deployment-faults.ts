import type { Logger } from '../../lib/logger.js';
import { SYSTEM_ACTOR } from '../alerts/monitor.js';
import type { createPauseResume } from './pause-resume.js';

/**
 * A deployment that cannot be sent as it is — a message that cannot be built from the campaign's
 * template and a recipient's stored fields — is a fault of the deployment, not of a recipient: it
 * is paused (reversible, audited as Campaign Guard) with a post to the alert channel naming the
 * cause, written in the pause's transaction. It never stays `sending` with nothing sent.
 */
export type DeploymentFaultReporter = (deploymentId: string, cause: string) => Promise<void>;

export function createDeploymentFaults(deps: { pauseResume: Pick<ReturnType<typeof createPauseResume>, 'pause'>; logger: Logger }): DeploymentFaultReporter {
  return async function reportFault(deploymentId, cause) {
    const outcome = await deps.pauseResume.pause({ deploymentId }, SYSTEM_ACTOR, { fault: cause });
    if (outcome.ok) deps.logger.error({ deploymentId, cause }, 'deployment paused: it cannot be sent as it is');
    // Already stopped (paused, cancelled) by someone else: nothing more to say.
    else deps.logger.warn({ deploymentId, cause, reason: outcome.reason }, 'deployment fault not acted on');
  };
}
