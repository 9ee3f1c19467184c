import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase, reconnectDelaySeconds, type DatabaseHandle } from '../../../src/db/client.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { startFaultProxy, type FaultProxy } from '../../support/fault-proxy.js';

/**
 * A Postgres outage in which reconnects are refused or never answered, while the app keeps
 * querying: once Postgres is back, the same pool answers within a second or so. (It used to stay
 * stuck for good: a failed connect left a connection in postgres.js's `connecting` queue.)
 */
let db: TestDatabase;
let proxy: FaultProxy;
beforeAll(async () => {
  db = await createTestDatabase();
  const target = new URL(db.url);
  proxy = await startFaultProxy({ host: target.hostname, port: Number(target.port) });
});
afterAll(async () => {
  await proxy.close();
  await db.drop();
});

function throughProxy(max = 2): DatabaseHandle {
  const url = new URL(db.url);
  url.port = String(proxy.port);
  return connectDatabase(url.toString(), { max, applicationName: 'campaign-guard-test' });
}

/** Queries every 100 ms for `ms`, as a busy app does; each one ends in an answer or an error. */
async function keepQuerying(handle: DatabaseHandle, ms: number) {
  const outcomes: Promise<'ok' | 'error'>[] = [];
  const until = Date.now() + ms;
  while (Date.now() < until) {
    outcomes.push(handle.sql`select 1`.then(() => 'ok' as const, () => 'error' as const));
    await new Promise((r) => setTimeout(r, 100));
  }
  return outcomes;
}

/**
 * Time until the pool answers a query again, asking every 50 ms: while a connection waits out its
 * reconnect backoff, postgres.js fails a query at once with the last connect error rather than
 * holding it, so the app can say "cannot answer right now" without a wait.
 */
async function answersWithin(handle: DatabaseHandle, ms: number): Promise<number> {
  const started = performance.now();
  for (;;) {
    const answered = await Promise.race([
      handle.sql`select 1 as one`.then(([row]) => row?.one === 1, () => false),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), ms)),
    ]);
    if (answered) return performance.now() - started;
    expect(performance.now() - started, `no answer within ${ms} ms`).toBeLessThan(ms);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('the Postgres pool after an outage', () => {
  it.each(['refuse', 'close'] as const)('connections reset, new ones %s for 3 s under load: the pool answers again within 2 s, and every query issued meanwhile ends', { timeout: 30_000 }, async (mode) => {
    proxy.set('pass');
    const handle = throughProxy();
    try {
      await handle.sql`select 1`;
      proxy.set('reset');
      proxy.set(mode);
      const during = await keepQuerying(handle, 3_000);
      proxy.set('pass');
      await answersWithin(handle, 2_000);
      const settled = await Promise.race([Promise.all(during), new Promise<null>((r) => setTimeout(() => r(null), 5_000))]);
      expect(settled, 'a query issued during the outage never ended').not.toBeNull();
      expect(settled).toContain('error');
    } finally {
      proxy.set('pass');
      await handle.close();
    }
  });

  it('the whole pool fails its connects repeatedly (more failures than connections): it still recovers', { timeout: 30_000 }, async () => {
    proxy.set('refuse');
    const handle = throughProxy();
    try {
      const during = await keepQuerying(handle, 2_000);
      expect(await Promise.all(during)).not.toContain('ok');
      proxy.set('pass');
      await answersWithin(handle, 2_000);
    } finally {
      proxy.set('pass');
      await handle.close();
    }
  });
});

describe('transactions cut off by a reset', () => {
  it('a transaction whose connection is reset mid-way fails, and its connection is not lost to the pool (each time, more times than the pool has connections)', { timeout: 30_000 }, async () => {
    proxy.set('pass');
    const handle = throughProxy();
    try {
      for (let round = 0; round < 4; round++) {
        // Nothing else is queued, so the dead connection is not reconnected at once, and the
        // transaction's next query, sent once the close is over, meets a connection with no socket.
        const cut = handle.sql.begin(async (tx) => {
          await tx`select pg_sleep(2)`.catch(() => undefined);
          await new Promise((r) => setTimeout(r, 50));
          return tx`select 1`;
        });
        await new Promise((r) => setTimeout(r, 300));
        proxy.set('reset');
        await expect(cut).rejects.toThrow();
        proxy.set('pass');
        await new Promise((r) => setTimeout(r, 100));
        await answersWithin(handle, 2_000);
      }
    } finally {
      proxy.set('pass');
      await handle.close();
    }
  });
});

describe('a transaction that goes on after its connection was reset', () => {
  it('its next query fails at once; the connection serves the queries queued meanwhile, each getting its own answer', { timeout: 30_000 }, async () => {
    proxy.set('pass');
    // One connection: the transaction holds it, so the other queries queue behind it, and the
    // reset connection is reconnected at once for the first of them.
    const handle = throughProxy(1);
    try {
      await handle.sql`select 1`;
      let afterReset: Promise<unknown> | undefined;
      const cut = handle.sql.begin(async (tx) => {
        await tx`select pg_sleep(1)`.catch(() => undefined);
        // The transaction's code carries on, as code awaiting something else would.
        afterReset = tx`select 'from the dead transaction' as id`;
        return afterReset;
      });
      await new Promise((r) => setTimeout(r, 200));
      const queued = Array.from({ length: 5 }, (_, i) => handle.sql<{ id: number }[]>`select ${i}::int as id`.then((rows) => rows[0]!.id, () => 'error' as const));
      await new Promise((r) => setTimeout(r, 100));
      proxy.set('reset');
      proxy.set('pass');
      await expect(cut).rejects.toThrow();
      await expect(Promise.race([afterReset!.then(() => 'answered', () => 'failed'), new Promise((r) => setTimeout(() => r('no answer'), 3_000))])).resolves.toBe('failed');
      const answers = await Promise.race([Promise.all(queued), new Promise<null>((r) => setTimeout(() => r(null), 5_000))]);
      expect(answers, 'queries queued during the reset never ended').not.toBeNull();
      answers!.forEach((answer, i) => expect([i, 'error']).toContain(answer));
      for (let i = 0; i < 5; i++) expect((await handle.sql<{ id: number }[]>`select ${100 + i}::int as id`)[0]!.id).toBe(100 + i);
    } finally {
      proxy.set('pass');
      await handle.close();
    }
  });
});

describe('reconnectDelaySeconds', () => {
  it('starts near 50 ms, doubles, and never exceeds 0.5 s', () => {
    for (let i = 0; i < 200; i++) {
      expect(reconnectDelaySeconds(1)).toBeGreaterThanOrEqual(0.025);
      expect(reconnectDelaySeconds(1)).toBeLessThanOrEqual(0.05);
      expect(reconnectDelaySeconds(3)).toBeLessThanOrEqual(0.2);
      expect(reconnectDelaySeconds(50)).toBeLessThanOrEqual(0.5);
      expect(reconnectDelaySeconds(50)).toBeGreaterThanOrEqual(0.25);
    }
  });
});
