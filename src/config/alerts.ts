import type { AlertSettings } from '../domain/thresholds.js';
import { ConfigError } from '../lib/config-error.js';

/** The alert section: per-metric warn/critical rates (warn below critical), sample, sustain and window. */
export type AlertsConfig = AlertSettings;

export function alertsConfig(e: {
  BOUNCE_RATE_WARN: number;
  BOUNCE_RATE_CRITICAL: number;
  ERROR_RATE_WARN: number;
  ERROR_RATE_CRITICAL: number;
  COMPLAINT_RATE_WARN: number;
  COMPLAINT_RATE_CRITICAL: number;
  ALERT_MIN_SAMPLE: number;
  ALERT_SUSTAIN_SECONDS: number;
  ALERT_WINDOW_SECONDS: number;
  AUTO_PAUSE_ON_CRITICAL: boolean;
}): AlertsConfig {
  assertThresholdPair('BOUNCE_RATE', e.BOUNCE_RATE_WARN, e.BOUNCE_RATE_CRITICAL);
  assertThresholdPair('ERROR_RATE', e.ERROR_RATE_WARN, e.ERROR_RATE_CRITICAL);
  assertThresholdPair('COMPLAINT_RATE', e.COMPLAINT_RATE_WARN, e.COMPLAINT_RATE_CRITICAL);
  return {
    bounceRate: { warn: e.BOUNCE_RATE_WARN, critical: e.BOUNCE_RATE_CRITICAL },
    errorRate: { warn: e.ERROR_RATE_WARN, critical: e.ERROR_RATE_CRITICAL },
    complaintRate: { warn: e.COMPLAINT_RATE_WARN, critical: e.COMPLAINT_RATE_CRITICAL },
    minSample: e.ALERT_MIN_SAMPLE,
    sustainSeconds: e.ALERT_SUSTAIN_SECONDS,
    windowSeconds: e.ALERT_WINDOW_SECONDS,
    autoPauseOnCritical: e.AUTO_PAUSE_ON_CRITICAL,
  };
}

function assertThresholdPair(prefix: string, warn: number, critical: number) {
  if (warn >= critical) {
    throw new ConfigError(`${prefix}_WARN`, `(${warn}) must be lower than ${prefix}_CRITICAL (${critical})`);
  }
}
