import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from '../../../src/app/serve.js';
import { startSmtpSink, type SmtpSink } from '../../../src/mail/sink.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { testConfig } from '../../support/sending.js';
import { createTestCa, type TestCa } from '../../support/tls-certs.js';

/**
 * /readyz reports the SMTP relay (connect, STARTTLS, EHLO, login) on its own line, without
 * answering 503 for it: a web process must keep serving Slack's Cancel clicks while the relay is
 * down. A failing relay is logged at warn with its reply.
 */
let db: TestDatabase;
let ca: TestCa;
let relay: SmtpSink;
const logins: { encrypted: boolean; accepted: boolean }[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  ca = await createTestCa();
  relay = await startSmtpSink({
    relay: { ...(await ca.serverCert('relay')), starttls: true, login: (user, pass) => user === 'mailer' && pass === 'right-password', onLogin: (l) => logins.push(l) },
  });
});
afterAll(async () => {
  await relay.close();
  await ca.remove();
  await db.drop();
});

async function webApp(smtpUrl: string) {
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, new Writable({ write: (chunk, _encoding, done) => (lines.push(String(chunk)), done()) }));
  // The test CA is not in this process's trust store: tls=insecure (still TLS, not verified).
  const app = await startApp(testConfig(db, { PORT: '0', HOST: '127.0.0.1', SMTP_URL: `${smtpUrl}?tls=insecure`, RELAY_CHECK_TIMEOUT_SECONDS: '5' }), logger, { role: 'web' });
  return { app, lines };
}

const readyz = async (app: RunningApp) => {
  const response = await fetch(`${app.url}/readyz`);
  return { status: response.status, body: (await response.json()) as { status: string; checks: Record<string, { ok: boolean; error?: string; advisory?: boolean }> } };
};

describe('/readyz and the SMTP relay', () => {
  it('reports a relay that refuses our login, logged at warn with its reply, and stays ready', async () => {
    const { app, lines } = await webApp(`smtp://mailer:wrong-password@127.0.0.1:${relay.port}`);
    try {
      const answer = await readyz(app);
      expect(answer.status).toBe(200);
      expect(answer.body.status).toBe('ready');
      expect(answer.body.checks.relay).toEqual({ ok: false, error: 'relay refused our login: 535 5.7.8 Authentication credentials invalid', advisory: true });
      expect(answer.body.checks.postgres).toEqual({ ok: true });
      const warned = lines.map((l) => JSON.parse(l) as { level: number; msg: string; cause?: string }).filter((l) => l.level === 40 && l.cause);
      expect(warned.map((l) => l.msg)).toContain('SMTP relay check failed: relay refused our login: 535 5.7.8 Authentication credentials invalid');
      expect(lines.join('')).not.toContain('wrong-password');
      expect(logins.every((l) => l.encrypted)).toBe(true);
    } finally {
      await app.stop();
    }
  }, 60_000);

  it('reports a relay that answers as ok', async () => {
    const { app } = await webApp(`smtp://mailer:right-password@127.0.0.1:${relay.port}`);
    try {
      expect((await readyz(app)).body.checks.relay).toEqual({ ok: true, advisory: true });
    } finally {
      await app.stop();
    }
  }, 60_000);
});
