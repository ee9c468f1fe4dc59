/**
 * The output of the processes tests start (scripts/dev/processes.ts): every stdout and stderr line
 * kept, parsed when it is JSON, bounded in memory, and announced to whoever observes, so a test can
 * check what every process wrote (test/support/process-logs.ts: no personal data, no secrets).
 */
import type { ChildProcess } from 'node:child_process';

/** One line a child wrote: its text, and the object when the line is JSON. */
export interface OutputLine {
  readonly stream: 'stdout' | 'stderr';
  readonly text: string;
  readonly json?: Record<string, unknown>;
}

/** Everything a child wrote on stdout and stderr, line by line, bounded: the oldest lines go first. */
export interface ProcessOutput {
  /** What was run, e.g. `scripts/cli/broker.ts`. */
  readonly name: string;
  /** A server writes log lines; a command answers on stdout and writes diagnostics on stderr. */
  readonly kind: 'server' | 'command';
  readonly pid: number | undefined;
  readonly lines: OutputLine[];
  /** Lines dropped because the bound was reached (a check of the output should refuse these). */
  dropped: number;
  /** Resolves once both streams have ended: every line is in `lines`. */
  readonly ended: Promise<void>;
}

/** Lines kept per process; a multi-node test writes a few thousand. */
const outputLineLimit = 100_000;

const outputObservers = new Set<(output: ProcessOutput) => void>();

/**
 * Collects the output of every process spawned here (broker nodes, scripts) until `close`, so a
 * test can check all of it afterwards, whoever started the process.
 */
export function observeProcessOutputs(): { readonly outputs: ProcessOutput[]; close(): void } {
  const outputs: ProcessOutput[] = [];
  const observer = (output: ProcessOutput) => outputs.push(output);
  outputObservers.add(observer);
  return { outputs, close: () => outputObservers.delete(observer) };
}

/** Keeps a child's lines in a ProcessOutput (and hands each to `onLine`), announced to observers. */
export function captureOutput(child: ChildProcess, name: string, options: { keep: boolean; kind?: ProcessOutput['kind']; onLine?: (line: OutputLine) => void }): ProcessOutput {
  const ends: Array<Promise<void>> = [];
  let allEnded = () => undefined as void;
  const ended = new Promise<void>((resolveEnded) => {
    allEnded = resolveEnded;
  });
  const output: ProcessOutput = { name, kind: options.kind ?? 'server', pid: child.pid, lines: [], dropped: 0, ended };
  for (const stream of ['stdout', 'stderr'] as const) {
    let buffered = '';
    const take = (text: string) => {
      let json: Record<string, unknown> | undefined;
      if (text.startsWith('{')) {
        try {
          const parsed = JSON.parse(text) as unknown;
          if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) json = parsed as Record<string, unknown>;
        } catch {
          // kept as text
        }
      }
      const line: OutputLine = json ? { stream, text, json } : { stream, text };
      if (options.keep) {
        output.lines.push(line);
        if (output.lines.length > outputLineLimit) {
          output.lines.shift();
          output.dropped += 1;
        }
      }
      options.onLine?.(line);
    };
    const source = child[stream];
    if (!source) continue;
    source.setEncoding('utf8');
    source.on('data', (chunk: string) => {
      buffered += chunk;
      let newline = buffered.indexOf('\n');
      while (newline >= 0) {
        take(buffered.slice(0, newline));
        buffered = buffered.slice(newline + 1);
        newline = buffered.indexOf('\n');
      }
    });
    ends.push(new Promise((resolveEnd) => source.once('close', () => {
      if (buffered) take(buffered);
      buffered = '';
      resolveEnd();
    })));
  }
  void Promise.all(ends).then(allEnded);
  if (options.keep) for (const observer of outputObservers) observer(output);
  return output;
}

