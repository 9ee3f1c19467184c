import { webApi } from '@slack/bolt';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../../src/lib/logger.js';
import { createUserDirectory } from '../../../src/slack/directory.js';
import { webApiOptions } from '../../../src/slack/writer.js';
import { testLogger } from '../../support/sending.js';

/** users.info behind the gate's control check: what it reports, how long it remembers, how it fails. */
const API = 'https://slack.test/api/';

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

function directory(options: { now?: () => number; timeoutMs?: number } = {}) {
  const warnings: string[] = [];
  const logger = { ...testLogger, warn: (_obj: unknown, msg: string) => void warnings.push(msg) } as unknown as Logger;
  const client = new webApi.WebClient('xoxb-test', { ...webApiOptions(API, 0), logLevel: webApi.LogLevel.ERROR });
  return { users: createUserDirectory({ client, logger, ...options }), warnings };
}

const usersInfo = (user: Record<string, unknown>) => nock('https://slack.test').post('/api/users.info').reply(200, { ok: true, user: { id: 'U0ALICE001', team_id: 'T1', ...user } });

describe('the Slack user directory (users.info)', () => {
  it('C10: reports deactivated users, guests of both kinds, strangers and the user\'s team', async () => {
    const { users } = directory();
    const cases: [Record<string, unknown>, object][] = [
      [{ deleted: true }, { deleted: true, guest: false, stranger: false }],
      [{ is_restricted: true }, { guest: true }],
      [{ is_ultra_restricted: true }, { guest: true }],
      [{ is_stranger: true, team_id: 'T0OTHER001' }, { stranger: true, teamId: 'T0OTHER001' }],
      [{}, { deleted: false, guest: false, stranger: false, teamId: 'T1' }],
    ];
    for (const [i, [user, expected]] of cases.entries()) {
      usersInfo(user);
      expect(await users.profile(`U0USER000${i}`)).toMatchObject(expected);
    }
    nock('https://slack.test').post('/api/users.info').reply(200, { ok: false, error: 'user_not_found' });
    expect(await users.profile('U0GHOST001')).toMatchObject({ stranger: true, unknown: true });
  });

  it('C10: remembers an answer for 60 s, so a click and its submit ask Slack once; a double click asks once', async () => {
    let now = 1_000_000;
    const { users } = directory({ now: () => now });
    const first = usersInfo({});
    const [a, b] = await Promise.all([users.profile('U0ALICE001'), users.profile('U0ALICE001')]);
    expect(first.isDone()).toBe(true);
    expect(a).toEqual(b);
    now += 59_000;
    expect(await users.profile('U0ALICE001')).toMatchObject({ deleted: false });
    const again = usersInfo({ deleted: true });
    now += 2_000;
    expect(await users.profile('U0ALICE001')).toMatchObject({ deleted: true });
    expect(again.isDone()).toBe(true);
  });

  it('C10: fails open with a warning when Slack rate-limits us, errs or is slow, and does not ask again at once', async () => {
    let now = 1_000_000;
    const { users, warnings } = directory({ now: () => now, timeoutMs: 200 });
    nock('https://slack.test').post('/api/users.info').reply(429, { ok: false, error: 'ratelimited' }, { 'retry-after': '30' });
    expect(await users.profile('U0ALICE001')).toBeUndefined();
    expect(warnings).toEqual(['users.info failed; the operators table alone decides (fail open)']);
    // Remembered for 10 s: no second request (nock would refuse the connection and warn again).
    expect(await users.profile('U0ALICE001')).toBeUndefined();
    expect(warnings).toHaveLength(1);

    nock('https://slack.test').post('/api/users.info').reply(200, { ok: false, error: 'missing_scope' });
    expect(await users.profile('U0BOB00001')).toBeUndefined();
    nock('https://slack.test').post('/api/users.info').delay(1000).reply(200, { ok: true, user: { deleted: true } });
    const started = Date.now();
    expect(await users.profile('U0CAROL001')).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(600);
    expect(warnings).toHaveLength(3);
    now += 11_000;
    usersInfo({ is_restricted: true });
    expect(await users.profile('U0ALICE001')).toMatchObject({ guest: true });
  });
});
