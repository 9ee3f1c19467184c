/**
 * What an SMTP attempt means for the ledger. A 5xx to RCPT is a hard bounce; a 4xx anywhere, or a
 * connection lost before DATA, is worth another try (nothing was delivered); a connection lost
 * once DATA began may have delivered the message, so it is `unknown` and never resent.
 *
 * A failure that says nothing about the recipient is the relay's (`relay`): the connection could
 * not be opened, TLS failed, the greeting, EHLO or login were refused, or the sender was refused
 * at MAIL FROM. It is never booked as the recipient's outcome: the recipient stays pending, and a
 * relay that keeps failing pauses the sending deployments instead of burning their audience.
 */
export type AttemptOutcome = 'sent' | 'bounced' | 'failed' | 'transient' | 'unknown' | 'relay';

export interface SmtpFailure {
  /** nodemailer's error code: EENVELOPE, ECONNECTION, ETIMEDOUT, ESOCKET, EMESSAGE, ETLS, EAUTH, … */
  code?: string;
  responseCode?: number;
  /** The SMTP command in progress: CONN, EHLO, MAIL FROM, RCPT TO, DATA, … */
  command?: string;
}

/** Where the failure happened: opening the session (connect, TLS, EHLO, login) or sending one message on it. */
export type SmtpStage = 'session' | 'message';

const BEFORE_DATA = new Set(['CONN', 'EHLO', 'HELO', 'LHLO', 'STARTTLS', 'AUTH', 'AUTH PLAIN', 'AUTH LOGIN', 'MAIL FROM', 'RCPT TO']);

export function classifyFailure(failure: SmtpFailure, stage: SmtpStage = 'message'): AttemptOutcome {
  if (stage === 'session') return 'relay';
  const reply = failure.responseCode;
  const command = failure.command?.toUpperCase();
  // The sender refused (MAIL FROM): every message of the relay's session would be.
  if (command === 'MAIL FROM' && reply !== undefined && reply >= 400) return 'relay';
  if (reply !== undefined && reply >= 400) {
    if (reply < 500) return 'transient';
    return command === 'RCPT TO' || failure.code === 'EENVELOPE' ? 'bounced' : 'failed';
  }
  if (command === undefined || BEFORE_DATA.has(command)) return 'transient';
  return 'unknown';
}

/** The ledger status a final attempt leaves; transient only ever ends as failed. A relay fault is never final. */
export function finalStatus(outcome: Exclude<AttemptOutcome, 'relay'>): 'sent' | 'bounced' | 'failed' | 'unknown' {
  return outcome === 'transient' ? 'failed' : outcome;
}

export interface RelayFailureFacts extends SmtpFailure {
  /** The server's reply, when it gave one. */
  response?: string;
  /** The error's own text (a socket error, a TLS verification error). */
  message?: string;
}

const firstLine = (text: string | undefined) => (text ?? '').split(/\r?\n/)[0]!.replace(/^Error initiating TLS - /, '').trim().slice(0, 300);

/**
 * The cause of a relay fault as a responder reads it: what the relay did, then its own words
 * ("relay refused our login: 535 5.7.8 Authentication failed").
 */
export function describeRelayFault(f: RelayFailureFacts): string {
  const command = f.command?.toUpperCase() ?? '';
  const reply = firstLine(f.response) || firstLine(f.message);
  if (f.code === 'EAUTH' || command.startsWith('AUTH')) return `relay refused our login: ${reply}`;
  if (f.code === 'ENOTLS') return `relay does not offer TLS, so the login was not sent: ${reply}`;
  if (f.code === 'ETLS' || command === 'STARTTLS' || /certificate|handshake|\bSSL\b|\bTLS\b|ERR_SSL|ERR_TLS/i.test(f.message ?? '')) {
    return f.responseCode !== undefined ? `relay does not offer TLS (STARTTLS refused), so the login was not sent: ${reply}` : `TLS with the relay failed: ${reply}`;
  }
  if (command === 'MAIL FROM') return `relay refused our sender (MAIL FROM): ${reply}`;
  if (f.responseCode !== undefined && (command === 'CONN' || command === 'EHLO' || command === 'HELO')) return `relay turned us away (${command === 'CONN' ? 'greeting' : command}): ${reply}`;
  if (/ECONNREFUSED/.test(f.message ?? '')) return `relay refused the connection: ${reply}`;
  if (f.code === 'ETIMEDOUT') return `relay did not answer in time: ${reply}`;
  if (f.code === 'EDNS') return `relay's host name does not resolve: ${reply}`;
  return `relay connection failed: ${reply}`;
}
