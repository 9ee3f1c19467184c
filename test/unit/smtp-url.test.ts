import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { ConfigError } from '../../src/lib/config-error.js';
import { parseSmtpUrl } from '../../src/lib/smtp-url.js';

/**
 * SMTP_URL is read as nodemailer reads it (scheme, credentials, its option names in the query),
 * strictly: a bad option stops the start with one line naming it, and a URL with credentials can
 * never let the password go out without TLS.
 */
const settings = (url: string) => {
  const parsed = parseSmtpUrl(url);
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.settings;
};
const problemOf = (url: string) => {
  try {
    loadConfig({ SMTP_URL: url });
  } catch (error) {
    if (error instanceof ConfigError) return error;
  }
  throw new Error(`${url} was accepted`);
};

describe('SMTP_URL: nodemailer options', () => {
  it('reads the scheme, host, port and credentials', () => {
    expect(settings('smtps://user%40corp:p%3Ass@mail.example.com')).toMatchObject({
      connection: { host: 'mail.example.com', port: 465, secure: true, requireTLS: false, tls: { rejectUnauthorized: true } },
      auth: { user: 'user@corp', pass: 'p:ss' },
      display: 'smtps://user%40corp:***@mail.example.com',
    });
    expect(settings('smtp://relay:2525').connection).toMatchObject({ host: 'relay', port: 2525, secure: false, requireTLS: false });
    expect(settings('smtp://relay').connection.port).toBe(25);
  });

  it('requires STARTTLS whenever smtp:// carries credentials', () => {
    expect(settings('smtp://u:p@relay:587').connection).toMatchObject({ requireTLS: true, ignoreTLS: false, opportunisticTLS: false });
  });

  it('reads nodemailer option names, booleans and numbers, tls.* and tls=insecure', () => {
    const s = settings('smtp://relay:587?requireTLS=true&name=sender.example.com&connectionTimeout=5000&tls.minVersion=TLSv1.2&tls.servername=relay.example.com&authMethod=login&maxMessages=50&tls=insecure');
    expect(s.connection).toMatchObject({
      requireTLS: true,
      name: 'sender.example.com',
      connectionTimeout: 5000,
      authMethod: 'LOGIN',
      tls: { rejectUnauthorized: false, minVersion: 'TLSv1.2', servername: 'relay.example.com' },
    });
    expect(s.maxMessagesPerConnection).toBe(50);
    expect(settings('smtp://relay?tls.rejectUnauthorized=false').connection.tls.rejectUnauthorized).toBe(false);
  });

  it.each([
    ['smtp://relay?requireTLS=yes', 'SMTP_URL option requireTLS=yes must be true or false'],
    ['smtp://relay?requireTLs=true', 'SMTP_URL option requireTLs is not an SMTP option read here'],
    ['smtp://relay?tls.ca=/etc/ca.pem', 'NODE_EXTRA_CA_CERTS'],
    ['smtp://relay?tls.minVersion=TLSv9', 'SMTP_URL option tls.minVersion=TLSv9 must be one of'],
    ['smtp://relay?tls=off', 'SMTP_URL option tls=off is not known'],
    ['smtp://relay?connectionTimeout=soon', 'SMTP_URL option connectionTimeout=soon must be a whole number'],
    ['smtp://relay?maxConnections=5', 'SMTP_URL option maxConnections is not read here: the pool has SEND_CONCURRENCY connections'],
    ['smtp://relay?name=bad_name!', 'SMTP_URL option name=bad_name! must be a host name'],
    ['smtp://relay?secure=true', 'SMTP_URL option secure=true contradicts smtp://'],
    ['smtp://relay?requireTLS=true&ignoreTLS=true', 'contradict each other'],
    ['smtp://relay?name=a.example&name=b.example', 'SMTP_URL option name is given twice'],
  ])('%s is one line naming the option', (url, expected) => {
    const error = problemOf(url);
    expect(error.variable).toBe('SMTP_URL');
    expect(error.message).toContain(expected);
    expect(error.message).not.toContain('\n');
  });

  it.each(['ignoreTLS=true', 'opportunisticTLS=true', 'requireTLS=false'])('refuses %s with credentials, without echoing the password', (option) => {
    const error = problemOf(`smtp://mailer:smtp-secret-9@relay:587?${option}`);
    expect(error.message).toContain(`option ${option}`);
    expect(error.message).toContain('TLS');
    expect(error.message).not.toContain('smtp-secret-9');
  });

  it('a user without a password (or the reverse) is refused', () => {
    expect(problemOf('smtp://mailer@relay:587').message).toContain('names the user mailer but no password');
    expect(problemOf('smtp://:pw-only@relay:587').message).toContain('has a password but no user name');
  });

  it('ignoreTLS stays possible without credentials (a relay on localhost)', () => {
    expect(settings('smtp://localhost:25?ignoreTLS=true').connection).toMatchObject({ ignoreTLS: true, requireTLS: false });
  });
});
