import type { OutgoingMessage } from '../domain/message.js';
import type { BatchJob, PrefetchJob, SendJob } from '../domain/send-jobs.js';
import type { AttemptOutcome } from '../domain/smtp.js';

/**
 * What the services need from the outside world, declared once here and implemented by the
 * adapters: the job queues (queue/queues.ts), the SMTP transport (mail/transport.ts), the shared
 * rate limiter and the stop signal (queue/rate-limiter.ts, queue/stop-signal.ts). Services
 * depend on these shapes, never on the adapters, so the composition root decides what runs.
 */

/** A queue the services put jobs in (prefetch and batch-trigger jobs). */
export interface JobQueue<T> {
  add(name: string, data: T, opts: { jobId: string; delay?: number }): Promise<unknown>;
}

export type PrefetchQueue = JobQueue<PrefetchJob>;
export type BatchQueue = JobQueue<BatchJob>;

/** The send queue: send jobs are queued in bulk, and the reconciler asks what became of one. */
export interface SendQueue {
  addBulk(jobs: { name: string; data: SendJob; opts: { jobId: string } }[]): Promise<unknown>;
  getJobState(jobId: string): Promise<string>;
}

export interface AttemptResult {
  /** `withdrawn`: the gate said no, so the message was abandoned before its end of data (never delivered). */
  outcome: AttemptOutcome | 'withdrawn';
  code: number | undefined;
  reply: string | undefined;
  /** For `relay`: what the relay did, in words ("relay refused our login: 535 …"). */
  cause?: string;
}

/** The relay answered a session (connected, EHLO, login when configured), or why not. */
export type RelayCheck = { ok: true } | { ok: false; cause: string };

export interface Transport {
  readonly connections: number;
  /**
   * With a `gate`, the envelope and the body go out at once but the end of data (the only thing
   * that makes a server accept a message) waits for the gate: `true` completes the message,
   * `false` abandons it by closing the connection mid-DATA, and nothing is delivered. So a durable
   * claim can be written while SMTP's round trips happen, instead of before them.
   */
  send(message: OutgoingMessage, gate?: Promise<boolean>): Promise<AttemptResult>;
  /** Opens a session of its own (connect, TLS, EHLO, login) within `timeoutMs`, then quits. */
  check(timeoutMs: number): Promise<RelayCheck>;
  close(): Promise<void>;
}

/** The send rate shared by every worker. */
export interface RateLimiter {
  /** Waits until at least one of `want` tokens is granted; returns how many were (0 if stopped). */
  take(want: number, stopped?: () => boolean): Promise<number>;
}

export type StopState = 'paused' | 'cancelled' | 'resumed';

/** Tells every worker at once that deployments stopped or resumed (after Postgres decided). */
export interface StopAnnouncer {
  announce(deploymentIds: string[], state: StopState): Promise<void>;
}

/** A worker's view of which deployments are stopped, checked before every hand-off. */
export interface StopWatcher {
  isStopped(deploymentId: string): boolean;
  /** When the stop committed (epoch ms), as far as this worker knows. */
  stoppedAt(deploymentId: string): number | undefined;
  /** Registers a deployment this worker is sending; returns the unregister function. */
  watch(deploymentId: string): () => void;
  /** Re-reads the watched deployments' statuses from Postgres now. */
  refresh(): Promise<void>;
  close(): Promise<void>;
}
