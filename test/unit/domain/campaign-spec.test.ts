import { describe, expect, it } from 'vitest';
import {
  DEFAULT_BATCH_INTERVAL_MS,
  DEFAULT_FROM,
  LIMITS,
  checkCampaignSpec,
  type CampaignSpec,
  type CampaignSpecInput,
} from '../../../src/domain/campaign-spec.js';

const NOW = new Date('2026-06-01T12:00:00.000Z');
const BASE: CampaignSpecInput = { name: 'Spring sale', kind: 'single' };

function accepted(input: Partial<CampaignSpecInput>, now: Date = NOW): CampaignSpec {
  const result = checkCampaignSpec({ ...BASE, ...input }, now);
  if (!result.ok) throw new Error(`expected acceptance, got refusal: ${result.reason}`);
  return result.value;
}

function refusal(input: Partial<CampaignSpecInput>, now: Date = NOW): string {
  const result = checkCampaignSpec({ ...BASE, ...input }, now);
  expect(result.ok, `expected ${JSON.stringify(input)} to be refused`).toBe(false);
  if (result.ok) throw new Error('unreachable');
  expect(result.code).toBe('invalid');
  expect(result.reason).not.toMatch(/[\r\n]/);
  return result.reason;
}

describe('checkCampaignSpec: defaults', () => {
  it('fills every default for a single campaign', () => {
    expect(accepted({})).toEqual({
      name: 'Spring sale',
      kind: 'single',
      deployments: 1,
      subject: 'Spring sale',
      from: DEFAULT_FROM,
      sendAt: null,
      batches: 1,
      batchIntervalMs: DEFAULT_BATCH_INTERVAL_MS,
      sendWeight: 1,
    });
    expect(DEFAULT_BATCH_INTERVAL_MS).toBe(10 * 60_000);
  });

  it('gives a multi campaign two deployments by default', () => {
    expect(accepted({ kind: 'multi' }).deployments).toBe(2);
  });

  it('the default sender is itself a valid sender', () => {
    expect(accepted({ from: DEFAULT_FROM }).from).toBe(DEFAULT_FROM);
  });

  it('keeps explicit values', () => {
    const sendAt = new Date(NOW.getTime() + 3_600_000);
    expect(
      accepted({
        kind: 'multi',
        deployments: 5,
        subject: 'Hello',
        from: 'News <news@example.com>',
        sendAt,
        batches: 4,
        batchIntervalMs: 90_000,
        priority: 'low',
      }),
    ).toEqual({
      name: 'Spring sale',
      kind: 'multi',
      deployments: 5,
      subject: 'Hello',
      from: 'News <news@example.com>',
      sendAt,
      batches: 4,
      batchIntervalMs: 90_000,
      sendWeight: 0.5,
    });
  });
});

describe('checkCampaignSpec: priority', () => {
  it('takes high, normal and low (any case) and a weight from 0.1 to 100', () => {
    expect(['high', 'Normal', 'LOW', '0.1', '2.5', '100'].map((priority) => accepted({ priority }).sendWeight)).toEqual([2, 1, 0.5, 0.1, 2.5, 100]);
  });

  it('refuses anything else with the choices named', () => {
    for (const priority of ['', 'urgent', '0', '0.05', '101', '-1', '1e2', 'NaN', '2.555']) {
      expect(refusal({ priority }), priority).toBe('--priority must be high, normal, low or a weight from 0.1 to 100 (normal = 1)');
    }
  });
});

describe('checkCampaignSpec: name', () => {
  it('trims and NFC-normalises the name, and the default subject follows it', () => {
    const spec = accepted({ name: '  Cafe\u0301 news  ' });
    expect(spec.name).toBe('Caf\u00e9 news');
    expect(spec.subject).toBe('Caf\u00e9 news');
  });

  it(`accepts ${LIMITS.name} characters`, () => {
    expect(accepted({ name: 'n'.repeat(LIMITS.name) }).name).toHaveLength(LIMITS.name);
  });

  it.each([
    ['empty', ''],
    ['blank', '   \t '],
    ['too long', 'n'.repeat(LIMITS.name + 1)],
    ['NUL', 'a\u0000b'],
    ['newline', 'line one\nline two'],
    ['carriage return', 'a\rb'],
    ['tab', 'a\tb'],
    ['DEL', 'a\u007fb'],
    ['escape sequence', 'a\u001b[31mred'],
    ['RTL override', 'a\u202eb'],
    ['LTR embedding', 'a\u202ab'],
    ['isolate', 'a\u2066b\u2069'],
  ])('refuses a name that is %s', (_label, name) => {
    expect(refusal({ name })).toMatch(/--name/);
  });
});

describe('checkCampaignSpec: subject', () => {
  it('trims the subject', () => {
    expect(accepted({ subject: '  Hello  ' }).subject).toBe('Hello');
  });

  it(`accepts ${LIMITS.subject} characters`, () => {
    expect(accepted({ subject: 's'.repeat(LIMITS.subject) }).subject).toHaveLength(LIMITS.subject);
  });

  it.each([
    ['empty', ''],
    ['blank', '   '],
    ['too long', 's'.repeat(LIMITS.subject + 1)],
    ['header injection', 'Hello\r\nBcc: victim@example.com'],
    ['newline', 'Hello\nWorld'],
    ['NUL', 'Hello\u0000'],
    ['RTL override', 'Hello \u202e'],
  ])('refuses a subject that is %s', (_label, subject) => {
    expect(refusal({ subject })).toMatch(/--subject/);
  });

  it('refuses a long name as subject through the name check first', () => {
    expect(refusal({ name: 'n'.repeat(LIMITS.name + 1) })).toMatch(/--name/);
  });
});

describe('checkCampaignSpec: from', () => {
  it.each([
    ['news@example.com', 'news@example.com'],
    ['News <news@example.com>', 'News <news@example.com>'],
    ['"News Team" <news@example.com>', '"News Team" <news@example.com>'],
    ['<news@example.com>', '<news@example.com>'],
    ['  News <news@example.com>  ', 'News <news@example.com>'],
  ])('accepts %j', (from, expected) => {
    expect(accepted({ from }).from).toBe(expected);
  });

  it.each([
    ['empty', ''],
    ['not an address', 'not an email'],
    ['bad address in brackets', 'News <not-an-email>'],
    ['unclosed bracket', 'News <news@example.com'],
    ['text after the bracket', 'News <news@example.com> extra'],
    ['CRLF header injection', 'News <news@example.com>\r\nBcc: victim@example.com'],
    ['LF header injection', 'news@example.com\nBcc: victim@example.com'],
    ['NUL', 'News\u0000 <news@example.com>'],
    ['RTL override in the display name', 'News \u202e <news@example.com>'],
    ['comma list of addresses', 'a@example.com, b@example.com'],
    ['Slack mailto token', '<mailto:a@b.com|a@b.com>'],
    ['two mailboxes', 'News <news@example.com>, Other <other@example.com>'],
  ])('refuses a sender that is %s', (_label, from) => {
    expect(refusal({ from })).toMatch(/--from/);
  });
});

describe('checkCampaignSpec: deployments', () => {
  it('a single campaign is one deployment', () => {
    expect(accepted({ kind: 'single', deployments: 1 }).deployments).toBe(1);
  });

  it.each([0, 2, 5])('refuses %i deployments for a single campaign, pointing at --kind multi', (deployments) => {
    expect(refusal({ kind: 'single', deployments })).toMatch(/--kind multi/);
  });

  it.each([1, 2, LIMITS.deployments])('accepts %i deployments for a multi campaign', (deployments) => {
    expect(accepted({ kind: 'multi', deployments }).deployments).toBe(deployments);
  });

  it.each([0, -1, LIMITS.deployments + 1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])(
    'refuses %d deployments for a multi campaign',
    (deployments) => {
      expect(refusal({ kind: 'multi', deployments })).toMatch(/--deployments must be a whole number from 1 to 50/);
    },
  );
});

describe('checkCampaignSpec: batches', () => {
  it.each([1, 2, LIMITS.batches])('accepts %i batches', (batches) => {
    expect(accepted({ batches }).batches).toBe(batches);
  });

  it.each([0, -3, LIMITS.batches + 1, 2.5, Number.NaN, Number.POSITIVE_INFINITY])('refuses %d batches', (batches) => {
    expect(refusal({ batches })).toMatch(/--batches must be a whole number from 1 to 100/);
  });

  it('keeps a batch interval of a day', () => {
    expect(accepted({ batches: 3, batchIntervalMs: 86_400_000 }).batchIntervalMs).toBe(86_400_000);
  });

  it.each([
    ['negative', -60_000],
    ['NaN', Number.NaN],
    ['infinite', Number.POSITIVE_INFINITY],
    // deployments.batch_interval_ms is a Postgres integer: 2^31 ms (~24.9 days) does not fit.
    ['beyond what the database column holds', 2 ** 31],
    ['600h (parseDuration accepts it)', 600 * 3_600_000],
  ])('refuses a batch interval that is %s', (_label, batchIntervalMs) => {
    expect(refusal({ batches: 3, batchIntervalMs })).toMatch(/--batch-interval/);
  });
});

describe('checkCampaignSpec: send time', () => {
  it('null and undefined make a draft', () => {
    expect(accepted({ sendAt: null }).sendAt).toBeNull();
    expect(accepted({ sendAt: undefined }).sendAt).toBeNull();
  });

  it("'now' sends at the given now", () => {
    expect(accepted({ sendAt: 'now' }).sendAt?.getTime()).toBe(NOW.getTime());
  });

  it('accepts a future time as given', () => {
    const later = new Date('2026-12-01T09:00:00Z');
    expect(accepted({ sendAt: later }).sendAt?.toISOString()).toBe('2026-12-01T09:00:00.000Z');
  });

  it('tolerates a minute of clock skew', () => {
    const justNow = new Date(NOW.getTime() - 59_000);
    expect(accepted({ sendAt: justNow }).sendAt).toEqual(justNow);
    expect(accepted({ sendAt: new Date(NOW.getTime() - 60_000) }).sendAt).toBeInstanceOf(Date);
  });

  it('refuses a time more than a minute in the past, pointing at --now', () => {
    expect(refusal({ sendAt: new Date(NOW.getTime() - 61_000) })).toMatch(/--now/);
    expect(refusal({ sendAt: new Date('2020-01-01T00:00:00Z') })).toMatch(/in the past/);
  });

  it('refuses an invalid date', () => {
    expect(refusal({ sendAt: new Date('not a date') })).toMatch(/--send-at must be an ISO time/);
  });

  it('judges "past" against the now it is given, not the wall clock', () => {
    const farFuture = new Date('2100-01-01T00:00:00Z');
    expect(refusal({ sendAt: new Date('2099-12-31T00:00:00Z') }, farFuture)).toMatch(/in the past/);
    const longAgo = new Date('2000-01-01T00:00:00Z');
    expect(accepted({ sendAt: new Date('2000-01-02T00:00:00Z') }, longAgo).sendAt).toBeInstanceOf(Date);
  });
});

describe('checkCampaignSpec: refusals', () => {
  it('are one short sentence that does not echo the offending text', () => {
    const evil = 'Evil <!channel>\u202e';
    for (const reason of [
      refusal({ name: evil }),
      refusal({ subject: `${evil}\n` }),
      refusal({ from: evil }),
    ]) {
      expect(reason).not.toContain('<!channel>');
      expect(reason.length).toBeLessThan(160);
    }
  });
});
