import { describe, expect, it } from 'vitest';
import { classifyFailure, describeRelayFault } from '../../../src/domain/smtp.js';

/**
 * A reply about the recipient books the recipient; a failure of the session (connect, TLS,
 * greeting, EHLO, login) or a refused sender is the relay's, and never a recipient's outcome.
 */
describe('classifyFailure', () => {
  it.each([
    [{ responseCode: 550, command: 'RCPT TO', code: 'EENVELOPE' }, 'message', 'bounced'],
    [{ responseCode: 451, command: 'RCPT TO', code: 'EENVELOPE' }, 'message', 'transient'],
    [{ responseCode: 554, command: 'DATA', code: 'EMESSAGE' }, 'message', 'failed'],
    [{ command: 'DATA', code: 'ECONNECTION' }, 'message', 'unknown'],
    [{ command: 'CONN', code: 'ETIMEDOUT' }, 'message', 'transient'],
    [{ responseCode: 550, command: 'MAIL FROM', code: 'EENVELOPE' }, 'message', 'relay'],
    [{ responseCode: 451, command: 'MAIL FROM', code: 'EENVELOPE' }, 'message', 'relay'],
    [{ responseCode: 535, command: 'AUTH PLAIN', code: 'EAUTH' }, 'session', 'relay'],
    [{ responseCode: 421, command: 'CONN', code: 'EPROTOCOL' }, 'session', 'relay'],
    [{ command: 'CONN', code: 'ESOCKET' }, 'session', 'relay'],
  ] as const)('%o during the %s is %s', (failure, stage, outcome) => {
    expect(classifyFailure(failure, stage)).toBe(outcome);
  });
});

describe('describeRelayFault', () => {
  it.each([
    [{ code: 'EAUTH', command: 'AUTH PLAIN', response: '535 5.7.8 Authentication credentials invalid' }, 'relay refused our login: 535 5.7.8 Authentication credentials invalid'],
    [{ code: 'ETLS', command: 'STARTTLS', responseCode: 502, response: '502 5.5.1 command not implemented' }, 'relay does not offer TLS (STARTTLS refused), so the login was not sent: 502 5.5.1 command not implemented'],
    [{ code: 'ENOTLS', command: 'STARTTLS', message: 'the session is not encrypted' }, 'relay does not offer TLS, so the login was not sent: the session is not encrypted'],
    [{ code: 'ETLS', command: 'STARTTLS', message: 'Error initiating TLS - self-signed certificate in certificate chain' }, 'TLS with the relay failed: self-signed certificate in certificate chain'],
    [{ code: 'ESOCKET', command: 'CONN', message: 'unable to verify the first certificate' }, 'TLS with the relay failed: unable to verify the first certificate'],
    [{ code: 'ESOCKET', command: 'CONN', message: 'connect ECONNREFUSED 127.0.0.1:2525' }, 'relay refused the connection: connect ECONNREFUSED 127.0.0.1:2525'],
    [{ code: 'EPROTOCOL', command: 'CONN', responseCode: 421, response: '421 4.3.2 Service not available' }, 'relay turned us away (greeting): 421 4.3.2 Service not available'],
    [{ code: 'EENVELOPE', command: 'MAIL FROM', responseCode: 554, response: '554 Message rejected: Email address is not verified.' }, 'relay refused our sender (MAIL FROM): 554 Message rejected: Email address is not verified.'],
    [{ code: 'ETIMEDOUT', command: 'CONN', message: 'Greeting never received' }, 'relay did not answer in time: Greeting never received'],
  ] as const)('%o → %s', (failure, words) => {
    expect(describeRelayFault(failure)).toBe(words);
  });
});
