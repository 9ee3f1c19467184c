import { describe, expect, it } from 'vitest';
import type { SqlExecutor } from '../../../src/db/client.js';
import { createBatchFlushers, type JobLanes } from '../../../src/services/sending/batch-flushers.js';
import { testLogger } from '../../support/sending.js';

const notCalled = (() => {
  throw new Error('no statement expected');
}) as unknown as SqlExecutor;

describe('a worker\'s claim flushers', () => {
  it('are shared by the open jobs of one batch, one per batch', () => {
    const flushers = createBatchFlushers({ sql: notCalled, nextToken: () => 't', leaseSeconds: 30, logger: testLogger });
    const first: JobLanes = { asking: 3, rowsLeft: 0 };
    const second: JobLanes = { asking: 5, rowsLeft: 250 };
    const a = flushers.join({ deploymentId: 'dep_a', batchId: 'bat_1', fromSeq: 1, toSeq: 250 }, first);
    const b = flushers.join({ deploymentId: 'dep_a', batchId: 'bat_1', fromSeq: 251, toSeq: 500 }, second);
    const other = flushers.join({ deploymentId: 'dep_a', batchId: 'bat_2', fromSeq: 501, toSeq: 750 }, { asking: 1, rowsLeft: 1 });
    expect(b).toBe(a);
    expect(other).not.toBe(a);
  });

  it('are let go when the batch\'s last open job leaves; a later job gets a new one', async () => {
    const flushers = createBatchFlushers({ sql: notCalled, nextToken: () => 't', leaseSeconds: 30, logger: testLogger });
    const job = { deploymentId: 'dep_a', batchId: 'bat_1', fromSeq: 1, toSeq: 250 };
    const lanes: JobLanes = { asking: 0, rowsLeft: 0 };
    const before = flushers.join(job, lanes);
    await flushers.leave(job, lanes);
    expect(flushers.join(job, lanes)).not.toBe(before);
  });
});
