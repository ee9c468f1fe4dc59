/**
 * Messages between the benchmark, its server processes and its load generator (over IPC).
 */

/** What a server process answers to `{ type: 'usage' }`. */
export interface UsageMessage {
  readonly type: 'usage';
  readonly cpu: NodeJS.CpuUsage;
  readonly memory: NodeJS.MemoryUsage;
  /** Whether a full GC ran first (the process has --expose-gc). */
  readonly gc: boolean;
  /** HTTP requests the process has served so far, by `METHOD /path` shape (ids replaced by `*`). */
  readonly requests: Record<string, number>;
  /** Milliseconds from request start to response end, summed by the same shapes. */
  readonly requestMs: Record<string, number>;
}

/** A party the load generator logs in to, as a portal would know it. */
export interface Target {
  readonly name: string;
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly redirectUri: string;
  readonly scope: string;
  /** The person who logs in on the login page the flow reaches (national or bare). */
  readonly username: string;
  readonly password: string;
}

export type JobKind = 'login' | 'refresh' | 'userinfo' | 'introspection';

export interface Job {
  readonly kind: JobKind;
  readonly target: Target;
  /** Closed loop: this many virtual users, each starting its next operation when the last ended. */
  readonly concurrency: number;
  readonly durationMs: number;
  /** Open loop instead (soak): operations started per second, at most `concurrency` at once. */
  readonly rate?: number;
  /** Send a `progress` message this often (soak). */
  readonly reportEveryMs?: number;
}

export interface JobResult {
  readonly kind: JobKind;
  readonly target: string;
  readonly concurrency: number;
  readonly count: number;
  readonly errors: number;
  /** A few distinct error messages, for the report. */
  readonly errorSamples: string[];
  readonly durationMs: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly meanMs: number;
}

export interface Progress {
  readonly type: 'progress';
  readonly at: number;
  readonly count: number;
  readonly errors: number;
  readonly errorSamples: string[];
  /** Operations not started because `concurrency` were already in flight (the target is too slow for the rate). */
  readonly skipped: number;
}
