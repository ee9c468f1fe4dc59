/**
 * The back-channel logout delivery queue, kept in the store so that a broker restart loses no
 * delivery and any node may send any of them:
 *
 * - each delivery is a record `logout:delivery:<id>`, listed in the set `logout:pending`;
 * - every node polls the set; an attempt is taken with `store.claim` on `<id>:<attempt number>`,
 *   so exactly one node makes each attempt, and a node that dies mid-attempt only delays the next
 *   one until its claim expires;
 * - a failed attempt is retried with exponential back-off (plus jitter, so many nodes and items do
 *   not move in step) until `giveUpAfterSeconds` after the logout; then the delivery is given up,
 *   recorded as `logout:given-up:<id>` (listed in `logout:given-up`) and logged, without personal
 *   data;
 * - one bad endpoint delays no one else (destinations.ts): each node makes at most a few attempts
 *   at once to one app, passes do not wait for each other (a delivery queued while another app's
 *   endpoint hangs starts at once), and an app that fails again and again is paused by a circuit
 *   breaker; its deliveries stay pending and are given up on time as ever.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../platform/log.ts';
import type { Store } from '../platform/storage/types.ts';
import type { LogoutSettings } from './settings.ts';
import { createDestinationGate, defaultGateOptions, type DestinationGateOptions } from './destinations.ts';

/** What is to be delivered: a logout token for one app of one ended session. */
export interface DeliveryRequest {
  readonly clientId: string;
  /** The broker's account id (a keyed hash, never shown); the token's `sub` is derived from it. */
  readonly accountId: string;
  /** The session's `sid` for that app. */
  readonly sid?: string;
}

export interface Delivery extends DeliveryRequest {
  readonly id: string;
  /** Epoch milliseconds of the logout. */
  readonly createdAt: number;
  /** Attempts made so far. */
  readonly attempts: number;
  /** Epoch milliseconds when the next attempt is due. */
  readonly nextAttemptAt: number;
  /** Stable code of the last failure. */
  readonly lastFailure?: string;
}

export interface GivenUpDelivery {
  readonly id: string;
  readonly clientId: string;
  readonly createdAt: number;
  readonly gaveUpAt: number;
  readonly attempts: number;
  readonly lastFailure: string;
}

/** A failed attempt; `permanent` ones are not retried (e.g. the app is no longer registered). */
export class DeliveryFailure extends Error {
  readonly code: string;
  readonly permanent: boolean;
  constructor(code: string, options: { permanent?: boolean; cause?: unknown } = {}) {
    super(`back-channel logout delivery failed: ${code}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DeliveryFailure';
    this.code = code;
    this.permanent = options.permanent ?? false;
  }
}

/** Sends one delivery; resolves when the app acknowledged it, throws `DeliveryFailure` otherwise. */
export type Deliver = (delivery: Delivery) => Promise<void>;

export interface DeliveryQueueOptions {
  readonly store: Store;
  readonly logger: Logger;
  readonly settings: LogoutSettings;
  readonly deliver: Deliver;
  /** Told of each delivery that ends (the broker's metrics count them by destination province). */
  readonly onOutcome?: (outcome: 'delivered' | 'given_up', delivery: Delivery) => void;
  /** Epoch milliseconds; default `Date.now`. */
  readonly now?: () => number;
  /** Per-destination limits and circuit breaker; default `defaultGateOptions`. */
  readonly destinations?: Partial<DestinationGateOptions>;
}

export interface PassResult {
  readonly delivered: number;
  readonly retried: number;
  readonly givenUp: number;
}

export interface DeliveryQueue {
  /** Queues a delivery and starts its first attempt right away (not awaited). */
  enqueue(request: DeliveryRequest): Promise<string>;
  /**
   * One pass: starts every due delivery this node may start now and resolves when those attempts
   * end. Passes may overlap; a delivery already being attempted is not started twice.
   */
  runOnce(): Promise<PassResult>;
  /** Starts polling; idempotent. */
  start(): void;
  /** Stops polling and waits for a pass in progress. */
  stop(): Promise<void>;
  pending(): Promise<Delivery[]>;
  givenUp(): Promise<GivenUpDelivery[]>;
}

const pendingSet = 'logout:pending';
const givenUpSet = 'logout:given-up';
const deliveryKey = (id: string) => `logout:delivery:${id}`;
const givenUpKey = (id: string) => `logout:given-up:${id}`;
const attemptKey = (id: string, attempt: number) => `logout:attempt:${id}:${attempt}`;

/** Deliveries attempted at once by one node, over all destinations. */
const concurrency = 8;

export function createDeliveryQueue(options: DeliveryQueueOptions): DeliveryQueue {
  const { store, settings, deliver } = options;
  const logger = options.logger.child({ component: 'backchannel_logout' });
  const now = options.now ?? Date.now;
  const giveUpAfterMs = settings.giveUpAfterSeconds * 1000;
  // A delivery record outlives its last possible attempt by a margin, so a slow node still finds it.
  const recordTtlMs = giveUpAfterMs + settings.deliveryTimeoutMs + 3600_000;
  // An attempt's claim outlasts the attempt (bounded by the delivery time-out) with room to record it.
  const attemptClaimMs = settings.deliveryTimeoutMs + 10_000;

  const gate = createDestinationGate({ ...defaultGateOptions, ...options.destinations, now });
  /** Deliveries this node is attempting now, and the attempts' promises (for `stop`). */
  const inFlight = new Map<string, Promise<unknown>>();

  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  function backoff(attempts: number): number {
    const base = Math.min(settings.maxRetryDelayMs, settings.firstRetryDelayMs * 2 ** Math.max(0, attempts - 1));
    return Math.round(base * (1 + Math.random() * 0.2));
  }

  async function giveUp(delivery: Delivery, attempts: number, failure: string): Promise<void> {
    const record: GivenUpDelivery = {
      id: delivery.id,
      clientId: delivery.clientId,
      createdAt: delivery.createdAt,
      gaveUpAt: now(),
      attempts,
      lastFailure: failure,
    };
    const retentionMs = settings.givenUpRetentionSeconds * 1000;
    await store.set(givenUpKey(delivery.id), record, retentionMs);
    await store.addToSet(givenUpSet, delivery.id, retentionMs);
    await store.delete(deliveryKey(delivery.id));
    await store.removeFromSet(pendingSet, delivery.id);
    options.onOutcome?.('given_up', delivery);
    logger.warn('backchannel_logout_given_up', {
      delivery: delivery.id,
      client: delivery.clientId,
      attempts,
      code: failure,
      after_seconds: Math.round((record.gaveUpAt - delivery.createdAt) / 1000),
    });
  }

  /** One attempt of one delivery; returns what became of it, or undefined when another node has it. */
  async function attempt(seen: Delivery): Promise<keyof PassResult | undefined> {
    if (!(await store.claim(attemptKey(seen.id, seen.attempts), attemptClaimMs))) return undefined;
    // Re-read under the claim: another node may have finished it since the poll read it.
    const delivery = await store.get<Delivery>(deliveryKey(seen.id));
    if (!delivery || delivery.attempts !== seen.attempts) return undefined;
    const attempts = delivery.attempts + 1;
    try {
      await deliver(delivery);
    } catch (error) {
      const failure = error instanceof DeliveryFailure ? error : new DeliveryFailure('internal_error', { cause: error });
      const at = now();
      if (failure.permanent || at - delivery.createdAt >= giveUpAfterMs) {
        await giveUp(delivery, attempts, failure.code);
        return 'givenUp';
      }
      // The last retry falls due at the give-up time, so the bound is kept even with long back-off.
      const nextAttemptAt = Math.min(at + backoff(attempts), delivery.createdAt + giveUpAfterMs);
      await store.set(deliveryKey(delivery.id), { ...delivery, attempts, nextAttemptAt, lastFailure: failure.code } satisfies Delivery, recordTtlMs);
      logger.info('backchannel_logout_retry', { delivery: delivery.id, client: delivery.clientId, attempts, code: failure.code, retry_in_ms: nextAttemptAt - at });
      return 'retried';
    }
    await store.delete(deliveryKey(delivery.id));
    await store.removeFromSet(pendingSet, delivery.id);
    logger.info('backchannel_logout_delivered', { delivery: delivery.id, client: delivery.clientId, attempts });
    options.onOutcome?.('delivered', delivery);
    return 'delivered';
  }

  async function pass(): Promise<PassResult> {
    const ids = await store.members(pendingSet);
    const records = await store.getMany<Delivery>(ids.map(deliveryKey));
    const due: Delivery[] = [];
    const at = now();
    await Promise.all(ids.map(async (id, i) => {
      const record = records[i];
      // A listed id without a record was finished (or expired) meanwhile.
      if (!record) await store.removeFromSet(pendingSet, id);
      else if (record.nextAttemptAt <= at && !inFlight.has(id)) due.push(record);
    }));
    // Oldest first, taken round the destinations, so that no app's backlog goes before another's.
    due.sort((a, b) => a.nextAttemptAt - b.nextAttemptAt);
    const started: Array<Promise<keyof PassResult | undefined>> = [];
    const paused: Delivery[] = [];
    // Synchronous from here to the end of the loop: overlapping passes see each other's starts.
    for (const delivery of due) {
      if (stopped || inFlight.size >= concurrency) break;
      if (inFlight.has(delivery.id)) continue;
      if (!gate.tryAcquire(delivery.clientId)) {
        if (gate.state(delivery.clientId) === 'open') paused.push(delivery);
        continue;
      }
      const run = attempt(delivery).then((outcome) => {
        gate.release(delivery.clientId, outcome === undefined ? undefined : outcome !== 'retried');
        return outcome;
      }, (error: unknown) => {
        gate.release(delivery.clientId, undefined);
        // Store trouble: the attempt's claim expires and the delivery is tried again later.
        logger.warn('backchannel_logout_attempt_failed', { delivery: delivery.id, reason: (error as Error)?.name });
        return undefined;
      }).finally(() => {
        inFlight.delete(delivery.id);
        // A slot is free: what waited for it need not wait for the next poll.
        if (!stopped && timer) setImmediate(poll);
      });
      inFlight.set(delivery.id, run);
      started.push(run);
    }
    const result = { delivered: 0, retried: 0, givenUp: 0 };
    // Behind an open circuit a delivery is not tried, but it is still given up on time.
    for (const delivery of paused) {
      if (at - delivery.createdAt < giveUpAfterMs || inFlight.has(delivery.id)) continue;
      if (await store.claim(attemptKey(delivery.id, delivery.attempts), attemptClaimMs)) {
        await giveUp(delivery, delivery.attempts, delivery.lastFailure ?? 'circuit_open');
        result.givenUp += 1;
      }
    }
    for (const outcome of await Promise.all(started)) if (outcome) result[outcome] += 1;
    return result;
  }

  function runOnce(): Promise<PassResult> {
    return pass();
  }

  const poll = () => {
    if (stopped) return;
    pass().catch((error: unknown) => {
      logger.warn('backchannel_logout_poll_failed', { reason: (error as Error)?.name });
    });
  };

  return {
    async enqueue(request) {
      const id = randomUUID();
      const at = now();
      const delivery: Delivery = {
        id,
        clientId: request.clientId,
        accountId: request.accountId,
        ...(request.sid ? { sid: request.sid } : {}),
        createdAt: at,
        attempts: 0,
        nextAttemptAt: at,
      };
      await store.set(deliveryKey(id), delivery, recordTtlMs);
      await store.addToSet(pendingSet, id);
      logger.info('backchannel_logout_queued', { delivery: id, client: request.clientId });
      if (!stopped && timer) setImmediate(poll);
      return id;
    },
    runOnce,
    start() {
      if (timer) return;
      stopped = false;
      timer = setInterval(poll, settings.pollIntervalMs);
      timer.unref();
      setImmediate(poll);
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      timer = undefined;
      await Promise.allSettled(inFlight.values());
    },
    async pending() {
      const ids = await store.members(pendingSet);
      return (await store.getMany<Delivery>(ids.map(deliveryKey))).filter((d): d is Delivery => d !== undefined);
    },
    async givenUp() {
      const ids = await store.members(givenUpSet);
      return (await store.getMany<GivenUpDelivery>(ids.map(givenUpKey))).filter((d): d is GivenUpDelivery => d !== undefined);
    },
  };
}
