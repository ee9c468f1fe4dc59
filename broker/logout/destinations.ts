/**
 * Per-destination limits of the back-channel logout queue, so one bad logout endpoint delays no
 * one else: at most a few attempts at once to each destination, and a circuit breaker that stops
 * trying a destination after several failures in a row, then lets one probe through after a pause.
 *
 * The state is per node and in memory: it only shapes when this node tries, while what is owed
 * (the deliveries, their retries and give-up) stays in the store.
 */

export interface DestinationGateOptions {
  /** Attempts in flight to one destination at once (per node). */
  readonly perDestination: number;
  /** Consecutive failures that open the circuit. */
  readonly failureThreshold: number;
  /** First pause of an open circuit (ms); it doubles with each failed probe up to `maxOpenMs`. */
  readonly openMs: number;
  readonly maxOpenMs: number;
  /** Epoch milliseconds; default `Date.now`. */
  readonly now?: () => number;
}

export type CircuitState = 'closed' | 'open' | 'half-open';

interface Destination {
  inFlight: number;
  failures: number;
  /** While open: when the next probe may go. */
  openUntil: number;
  openFor: number;
  probing: boolean;
}

export interface DestinationGate {
  /** Takes a slot for one attempt to `destination`; false when it is full or its circuit is open. */
  tryAcquire(destination: string): boolean;
  /** Gives the slot back with the attempt's outcome (undefined: no attempt was made after all). */
  release(destination: string, succeeded: boolean | undefined): void;
  state(destination: string): CircuitState;
}

export const defaultGateOptions: DestinationGateOptions = { perDestination: 2, failureThreshold: 5, openMs: 30_000, maxOpenMs: 600_000 };

export function createDestinationGate(options: DestinationGateOptions = defaultGateOptions): DestinationGate {
  const now = options.now ?? Date.now;
  const destinations = new Map<string, Destination>();
  const of = (key: string): Destination => {
    let d = destinations.get(key);
    if (!d) destinations.set(key, d = { inFlight: 0, failures: 0, openUntil: 0, openFor: 0, probing: false });
    return d;
  };
  const stateOf = (d: Destination): CircuitState => {
    if (d.failures < options.failureThreshold) return 'closed';
    return now() >= d.openUntil ? 'half-open' : 'open';
  };

  return {
    tryAcquire(key) {
      const d = of(key);
      const state = stateOf(d);
      if (state === 'open') return false;
      if (state === 'half-open') {
        // One probe at a time decides whether the destination is back.
        if (d.probing || d.inFlight > 0) return false;
        d.probing = true;
      } else if (d.inFlight >= options.perDestination) return false;
      d.inFlight += 1;
      return true;
    },
    release(key, succeeded) {
      const d = of(key);
      d.inFlight = Math.max(0, d.inFlight - 1);
      const probe = d.probing;
      d.probing = false;
      if (succeeded === undefined) return;
      if (succeeded) {
        // Nothing to remember about a healthy destination.
        if (d.inFlight === 0) destinations.delete(key);
        else Object.assign(d, { failures: 0, openUntil: 0, openFor: 0 });
        return;
      }
      d.failures += 1;
      if (d.failures < options.failureThreshold) return;
      if (probe || d.openFor === 0 || now() >= d.openUntil) {
        d.openFor = d.openFor === 0 ? options.openMs : Math.min(options.maxOpenMs, d.openFor * 2);
        d.openUntil = now() + d.openFor;
      }
    },
    state(key) {
      const d = destinations.get(key);
      return d ? stateOf(d) : 'closed';
    },
  };
}
