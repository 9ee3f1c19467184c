/**
 * What an SMTP attempt means for the ledger. A 5xx to RCPT is a hard bounce; a 4xx anywhere, or a
 * connection lost before DATA, is worth another try (nothing was delivered); a connection lost
 * once DATA began may have delivered the message, so it is `unknown` and never resent.
 */
export type AttemptOutcome = 'sent' | 'bounced' | 'failed' | 'transient' | 'unknown';

export interface SmtpFailure {
  /** nodemailer's error code: EENVELOPE, ECONNECTION, ETIMEDOUT, ESOCKET, EMESSAGE, … */
  code?: string;
  responseCode?: number;
  /** The SMTP command in progress: CONN, EHLO, MAIL FROM, RCPT TO, DATA, … */
  command?: string;
}

const BEFORE_DATA = new Set(['CONN', 'EHLO', 'HELO', 'LHLO', 'STARTTLS', 'AUTH', 'AUTH PLAIN', 'AUTH LOGIN', 'MAIL FROM', 'RCPT TO']);

export function classifyFailure(failure: SmtpFailure): AttemptOutcome {
  const reply = failure.responseCode;
  const command = failure.command?.toUpperCase();
  if (reply !== undefined && reply >= 400) {
    if (reply < 500) return 'transient';
    return command === 'RCPT TO' || failure.code === 'EENVELOPE' ? 'bounced' : 'failed';
  }
  if (command === undefined || BEFORE_DATA.has(command)) return 'transient';
  return 'unknown';
}

/** The ledger status a final attempt leaves; transient only ever ends as failed. */
export function finalStatus(outcome: AttemptOutcome): 'sent' | 'bounced' | 'failed' | 'unknown' {
  return outcome === 'transient' ? 'failed' : outcome;
}
