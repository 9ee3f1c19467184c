import { describe, expect, it } from 'vitest';
import { runCli, STACK_LINE, stderrLines } from '../../support/cli.js';

/**
 * DESIGN §6: every variable is validated at start, and a bad value stops the process with one
 * clear line (exit 2, a usage/configuration error), never a stack trace.
 *
 * The URLs below point at closed ports: were validation to let a bad value through, the command
 * would fail fast on a connection (and the test on its exit code) instead of starting embedded
 * servers under the working directory.
 */
const UNREACHABLE = {
  DATABASE_URL: 'postgres://cg:cg@127.0.0.1:1/nothing',
  REDIS_URL: 'redis://127.0.0.1:1',
};

interface Case {
  title: string;
  args: string[];
  env: Record<string, string>;
  names: string;
}

const cases: Case[] = [
  { title: 'DATABASE_URL that is not a URL', args: ['migrate'], env: { DATABASE_URL: 'not-a-url' }, names: 'DATABASE_URL' },
  { title: 'DATABASE_URL with the wrong protocol', args: ['status'], env: { DATABASE_URL: 'mysql://u:p@localhost/db' }, names: 'DATABASE_URL' },
  { title: 'REDIS_URL that is not a URL', args: ['serve'], env: { ...UNREACHABLE, REDIS_URL: 'localhost:6379' }, names: 'REDIS_URL' },
  { title: 'PORT that is not a number', args: ['serve'], env: { ...UNREACHABLE, PORT: 'abc' }, names: 'PORT' },
  { title: 'PORT out of range', args: ['serve'], env: { ...UNREACHABLE, PORT: '70000' }, names: 'PORT' },
  { title: 'an ambiguous bare BOUNCE_RATE_WARN', args: ['status'], env: { ...UNREACHABLE, BOUNCE_RATE_WARN: '5' }, names: 'BOUNCE_RATE_WARN' },
  {
    title: 'a warn threshold above the critical one',
    args: ['status'],
    env: { ...UNREACHABLE, ERROR_RATE_WARN: '20%', ERROR_RATE_CRITICAL: '10%' },
    names: 'ERROR_RATE_WARN',
  },
  {
    title: 'SLACK_BOT_TOKEN without a signing secret (or app token)',
    args: ['status'],
    env: { ...UNREACHABLE, SLACK_BOT_TOKEN: 'xoxb-123-456-abc' },
    names: 'SLACK_SIGNING_SECRET',
  },
  { title: 'a malformed SLACK_BOT_TOKEN', args: ['serve'], env: { ...UNREACHABLE, SLACK_BOT_TOKEN: 'not-a-token' }, names: 'SLACK_BOT_TOKEN' },
  { title: 'a bad LOG_LEVEL', args: ['migrate'], env: { ...UNREACHABLE, LOG_LEVEL: 'loud' }, names: 'LOG_LEVEL' },
  { title: 'SMTP_URL with the wrong protocol', args: ['serve'], env: { ...UNREACHABLE, SMTP_URL: 'http://mail' }, names: 'SMTP_URL' },
];

describe('a bad environment stops the process with one line', () => {
  it.each(cases)('$title ($args)', async ({ args, env, names }) => {
    const result = await runCli(args, env, { timeoutMs: 30_000 });
    const lines = stderrLines(result.stderr);
    expect(result.code, result.stderr).toBe(2);
    expect(lines, result.stderr).toHaveLength(1);
    expect(lines[0]).toContain(names);
    expect(lines[0]).toMatch(/^campaign-guard: /);
    expect(result.stderr).not.toMatch(STACK_LINE);
    expect(result.stdout).toBe('');
  });

  it('does not print the secret value it refuses', async () => {
    const token = 'xoxb-secret-value-0123456789';
    const result = await runCli(['status'], { ...UNREACHABLE, SLACK_BOT_TOKEN: token }, { timeoutMs: 30_000 });
    expect(result.code).toBe(2);
    expect(result.stderr).not.toContain(token);
  });

  it('treats a blank value as unset (the default applies)', async () => {
    // PORT='' is the default port; the command then fails on the unreachable database instead.
    const result = await runCli(['status', '--json'], { ...UNREACHABLE, PORT: '', LOG_LEVEL: 'silent' }, { timeoutMs: 60_000 });
    expect(result.stderr).not.toContain('PORT');
    expect(result.code).not.toBe(0);
  });

  it('an unknown command is a usage error (2), not a crash', async () => {
    const result = await runCli(['explode'], UNREACHABLE, { timeoutMs: 30_000 });
    expect(result.code).toBe(2);
    expect(result.stderr).not.toMatch(STACK_LINE);
  });
});
