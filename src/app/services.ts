import type { DatabaseHandle } from '../db/client.js';
import type { Policy } from '../domain/thresholds.js';
import { timedCancels } from '../http/metrics.js';
import type { Logger } from '../lib/logger.js';
import type { Metrics } from '../lib/metrics.js';
import { createAccessService } from '../services/access.js';
import { createAcknowledgementService } from '../services/alerts/acknowledgement.js';
import { createAlertPolicyService } from '../services/alerts/policy.js';
import { createAlertReader } from '../services/alerts/reader.js';
import { createAudienceWorkerPool } from '../services/campaigns/audience-workers.js';
import { createCampaignCreator } from '../services/campaigns/create-campaign.js';
import { createLockService } from '../services/campaigns/locks.js';
import { createControlService } from '../services/control.js';
import type { BatchQueue, StopAnnouncer } from '../services/ports.js';
import { createPauseResume } from '../services/sending/pause-resume.js';
import { createRelayFaults } from '../services/sending/relay-faults.js';
import { createStatusService } from '../services/status.js';

/**
 * The services every process kind (serve, one-shot command) offers its adapters, wired from the
 * database and what the caller connected. Part of the composition root.
 */
export interface ServiceLinks {
  announcer: StopAnnouncer;
  /** The alert policy defaults from configuration (per-campaign overrides go on top). */
  alertDefaults: Policy;
  logger: Logger;
  metrics?: Metrics;
  /** Where a resume queues batch triggers again (without it, the scheduler's next tick does). */
  batchQueue?: BatchQueue;
}

export function buildServices(database: DatabaseHandle, links: ServiceLinks, clock: () => Date = () => new Date()) {
  const audienceWorkers = createAudienceWorkerPool();
  const pauseResume = createPauseResume({ database, announcer: links.announcer, batchQueue: links.batchQueue });
  const relayFaults = createRelayFaults({ database, pauseResume, logger: links.logger });
  const control = createControlService({ database, announcer: links.announcer, pauseResume, relayFaults, logger: links.logger });
  return {
    control: links.metrics ? timedCancels(control, links.metrics) : control,
    pauseResume,
    createCampaign: createCampaignCreator({ database, clock, validateBlock: audienceWorkers.validate }),
    locks: createLockService({ db: database.db, clock }),
    status: createStatusService({ db: database.db }),
    access: createAccessService({ db: database.db, clock }),
    alerts: createAlertReader({ sql: database.sql }),
    onCall: createAcknowledgementService({ database, clock }),
    alertPolicy: createAlertPolicyService({ database, defaults: links.alertDefaults }),
    /** Lets go of what the services hold themselves (worker threads); not the database. */
    close: () => audienceWorkers.close(),
  };
}
export type Services = ReturnType<typeof buildServices>;
