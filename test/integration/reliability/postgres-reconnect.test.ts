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

function throughProxy(): DatabaseHandle {
  const url = new URL(db.url);
  url.port = String(proxy.port);
  return connectDatabase(url.toString(), { max: 2, applicationName: 'campaign-guard-test' });
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

async function answersWithin(handle: DatabaseHandle, ms: number): Promise<number> {
  const started = performance.now();
  const answered = await Promise.race([
    handle.sql`select 1 as one`.then(([row]) => row?.one === 1),
    new Promise<false>((resolve) => setTimeout(() => resolve(false), ms)),
  ]);
  expect(answered, `no answer within ${ms} ms`).toBe(true);
  return performance.now() - started;
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

describe('reconnectDelaySeconds', () => {
  it('starts near 50 ms, doubles, and never exceeds 1 s', () => {
    for (let i = 0; i < 200; i++) {
      expect(reconnectDelaySeconds(1)).toBeGreaterThanOrEqual(0.025);
      expect(reconnectDelaySeconds(1)).toBeLessThanOrEqual(0.05);
      expect(reconnectDelaySeconds(3)).toBeLessThanOrEqual(0.2);
      expect(reconnectDelaySeconds(50)).toBeLessThanOrEqual(1);
      expect(reconnectDelaySeconds(50)).toBeGreaterThanOrEqual(0.5);
    }
  });
});
