import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * Every case of the bad-input catalogue (DESIGN §7, reference/bad-inputs.md §4.1–4.5) has a test
 * that runs: a test whose title names the case (`S4`, `C10`, `[I7]`…). Skipped and todo tests do
 * not count, so a case cannot be "covered" by a test that never runs.
 */
const CATALOGUE: Record<string, string> = {
  S1: 'no signature or timestamp header',
  S2: 'a header sent twice',
  S3: 'a timestamp that is not a number of seconds',
  S4: 'a timestamp more than 300 s in the past or the future',
  S5: 'a malformed or wrong signature',
  S6: 'a body altered after signing',
  S7: 'ssl_check carrying a payload',
  S8: 'a content type that does not match the body',
  S9: 'payload that is invalid JSON, null, an array, or 10 MB',
  S10: 'a 5 MB / 50 MB unauthenticated body',
  S11: 'a valid request replayed',
  S12: 'an Events API retry while the first run executes',
  S13: 'Socket Mode: the same envelope delivered twice',
  C1: 'empty, whitespace, help, unknown verb',
  C2: 'over-long text, 100 tokens',
  C3: 'unknown, deleted or foreign id: one answer',
  C4: 'malformed ids (injection, traversal, templates)',
  C5: 'a NUL byte',
  C6: 'Unicode look-alikes, invisible and bidi characters',
  C7: 'Slack-formatted tokens pasted in',
  C8: 'newlines and 10 KB in the reason',
  C9: 'a command from a DM, a channel not allowed, a shared channel',
  C10: 'a user not on call, deactivated, a guest, of another org',
  I1: 'two responders cancel at once',
  I2: 'the same user double-clicks',
  I3: 'cancel on a finished, failed or cancelled deployment',
  I4: 'a stale button or one of another value version',
  I5: 'a submit after the deployment was cancelled meanwhile',
  I6: 'a typed confirmation that does not match',
  I7: 'a tampered value or private_metadata',
  I8: 'a click from a channel we do not own or a shared channel',
  I9: 'an expired trigger_id',
  I10: 'clicks while Postgres is down',
  I11: 'clicks while Redis is down',
  W1: 'SNS topic not allowlisted',
  W2: 'SNS signature version 3, missing or invalid signature',
  W3: 'SigningCertURL variants, no fetch',
  W4: 'raw delivery',
  W5: 'SubscriptionConfirmation of an unknown topic or foreign SubscribeURL',
  W6: 'the same MessageId three times',
  W7: 'Message not JSON, eventType, unknown notificationType',
  W8: 'a bounce for a message id we do not know (yet)',
  W9: 'bounced recipients not in the destination; empty; 1,000',
  W10: 'suppression-list and auto-reply bounces',
  W11: 'delivery then bounce for one recipient',
  W12: 'SendGrid body re-encoded by a proxy',
  W13: 'SendGrid [], {}, non-JSON, 768 KB, 10,000 events',
  W14: 'SendGrid duplicates, missing sg_event_id, lenient fields',
  W15: 'our database down while a webhook arrives',

  // Issue 19 (hostile and unlucky input, round two): reference/bad-inputs.md §4.4 (W16–W18) and §4.5.
  W16: 'finding 1: a diagnostic whose 500th character is half an emoji, or a NUL in id, recipient or subtype: cut by code points, cleaned, stored and counted',
  W17: 'finding 1: one unstorable event among many requests at the same moment: only it quarantined, every other request 2xx and counted',
  W18: 'finding 11: an event nested 20,000 levels deep, or of 1 MB: bounded before hashing, alone',
  T1: 'finding 2: {{constructor}}, {{__proto__}}, {{toString}} in subject or body; a message that cannot be built during a send',
  T2: 'finding 4: a CSV with an unclosed quote, then 200,000 lines of ""',
  T3: 'finding 5: /campaign status or the Status button for 50 deployments × 2 batches, within Slack limits',
  O1: 'finding 6: SIGHUP, SIGTERM, SIGQUIT during a send: graceful stop, 0 unknown',
  O2: 'finding 7: Redis refusing writes (MISCONF) while a deployment is paused: logged with backoff and a count',
  O3: 'finding 8: a signed Slack request replayed to another web process or after a restart',
  O4: 'finding 9: a request body trickled one byte every few seconds',
  O5: 'finding 10: campaign create while the disk is full: one line, no hang',
  O6: 'finding 3: App Home after access revoke',

  // Issue 24 (the on-call loop): its new entry points.
  O7: 'an Acknowledge button value or a Snooze choice that is not ours: refused without a lookup, audited',
  O8: '/campaign ack with no id, a campaign id or more than one id: the usage line',
  O9: 'on-call variables malformed or half set (mention, escalation, link templates, PagerDuty, webhook URL without its secret): one line naming the variable',
  O10: 'a pager refusing an event (400, 404) or unreachable: failed for good and logged, or retried; never a crash',
  O11: 'campaign-guard alerts ack with a malformed or unknown id, or without --actor: one line, nothing changed',
};

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TEST_ROOT = path.join(ROOT, 'test');
const RUNNING = new Set(['it', 'test', 'describe']);
const NOT_RUNNING = new Set(['skip', 'todo', 'fails']);

/** The titles of tests that run, with the calls that declare them (`it`, `it.each(…)`, `describe.sequential`…). */
export function runningTitles(source: string, fileName = 'file.test.ts'): string[] {
  const sf = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const titles: string[] = [];
  /** `it`, `it.concurrent`, `it.each([...])`: the root name and whether any link skips. */
  const callee = (expression: ts.Expression): { root?: string; skipped: boolean } => {
    if (ts.isIdentifier(expression)) return { root: expression.text, skipped: false };
    if (ts.isPropertyAccessExpression(expression)) {
      const inner = callee(expression.expression);
      return { root: inner.root, skipped: inner.skipped || NOT_RUNNING.has(expression.name.text) };
    }
    if (ts.isCallExpression(expression)) return callee(expression.expression);
    return { skipped: false };
  };
  const visit = (node: ts.Node) => {
    if (ts.isCallExpression(node) && node.arguments.length >= 2) {
      const { root, skipped } = callee(node.expression);
      const first = node.arguments[0]!;
      if (root && RUNNING.has(root) && !skipped && (ts.isStringLiteralLike(first) || ts.isTemplateExpression(first))) {
        titles.push(first.getText(sf));
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return titles;
}

function testFiles(): string[] {
  return readdirSync(TEST_ROOT, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.test.ts'))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

function coverage(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const file of testFiles()) {
    for (const title of runningTitles(readFileSync(file, 'utf8'), file)) {
      for (const match of title.matchAll(/\b([SCIWTO]\d{1,2})\b/g)) {
        const list = found.get(match[1]!) ?? [];
        list.push(`${path.relative(ROOT, file)}: ${title}`);
        found.set(match[1]!, list);
      }
    }
  }
  return found;
}

describe('the bad-input catalogue', () => {
  it('finds titles only of tests that run', () => {
    const titles = runningTitles(`
      it('S1: runs', () => {});
      it.each([1])('S2: runs %s', () => {});
      describe.sequential('S3: runs', () => {});
      it.skip('S4: skipped', () => {});
      it.todo('S5: todo');
      describe.skip('S6: skipped', () => {});
      it.each([1]).skip?.('S7', () => {});
      notATest('S8: no', () => {});
    `);
    expect(titles).toEqual(["'S1: runs'", "'S2: runs %s'", "'S3: runs'"]);
  });

  it('has a running test naming every case', () => {
    const found = coverage();
    const missing = Object.entries(CATALOGUE).filter(([id]) => !found.has(id)).map(([id, what]) => `${id} (${what})`);
    expect(missing).toEqual([]);
  });

  it('names no case that is not in the catalogue', () => {
    const unknown = [...coverage().keys()].filter((id) => !(id in CATALOGUE));
    expect(unknown).toEqual([]);
  });
});
