/**
 * What every chaos run must show, whatever fault it injected: the batch ended, every input
 * `custom_id` is in exactly one line of the output and error files, `request_counts` agree with
 * those files, and no queue or dead-letter queue holds a message once things have settled.
 * Pure functions over what the harness collected (harness.ts does the I/O), so the checks
 * themselves are unit-tested (check.test.ts).
 */

export const TERMINAL = ['completed', 'failed', 'expired', 'cancelled'] as const;
export const isTerminal = (status: string): boolean => (TERMINAL as readonly string[]).includes(status);

export interface RequestCounts {
  total: number;
  completed: number;
  failed: number;
}

/** One queue's depth: GetQueueAttributes' approximate counts. */
export interface QueueDepth {
  queue: string;
  visible: number;
  notVisible: number;
  delayed: number;
}

export interface Observed {
  /** The custom_ids of the input file, in order. */
  inputIds: readonly string[];
  /** The batch as the API answered once the run was over. */
  status: string;
  requestCounts: RequestCounts | null | undefined;
  /** custom_id of every line of the output file and of the error file. */
  outputIds: readonly string[];
  errorIds: readonly string[];
  /** Every declared queue and its dead-letter queue, after the settle. */
  queues: readonly QueueDepth[];
}

export interface Verdict {
  terminal: boolean;
  /** Input ids in neither file. */
  lost: string[];
  /** Ids on more than one line (twice in one file, or in both). */
  duplicated: string[];
  /** Ids in the files that the input does not have. */
  unexpected: string[];
  /** request_counts as the files say they must be. */
  expectedCounts: RequestCounts;
  countsMatch: boolean;
  /** Queues that still hold messages. */
  leftovers: QueueDepth[];
  /** Each failed check in words; empty when the run is clean. */
  problems: string[];
}

/** Which ids are missing, repeated or unknown across the output and error files. */
export function exactlyOnce(
  inputIds: readonly string[],
  outputIds: readonly string[],
  errorIds: readonly string[],
): { lost: string[]; duplicated: string[]; unexpected: string[] } {
  const seen = new Map<string, number>();
  for (const id of [...outputIds, ...errorIds]) seen.set(id, (seen.get(id) ?? 0) + 1);
  const input = new Set(inputIds);
  return {
    lost: inputIds.filter((id) => !seen.has(id)),
    duplicated: [...seen.entries()].filter(([id, n]) => n > 1 && input.has(id)).map(([id]) => id),
    unexpected: [...seen.keys()].filter((id) => !input.has(id)),
  };
}

/** request_counts a finished batch must report: the input's size, and one count per file line. */
export const expectedCounts = (
  inputCount: number,
  outputLines: number,
  errorLines: number,
): RequestCounts => ({ total: inputCount, completed: outputLines, failed: errorLines });

export const sameCounts = (a: RequestCounts | null | undefined, b: RequestCounts): boolean =>
  !!a && a.total === b.total && a.completed === b.completed && a.failed === b.failed;

export const leftovers = (queues: readonly QueueDepth[]): QueueDepth[] =>
  queues.filter((q) => q.visible + q.notVisible + q.delayed > 0);

export function judge(o: Observed): Verdict {
  const terminal = isTerminal(o.status);
  const ids = exactlyOnce(o.inputIds, o.outputIds, o.errorIds);
  const expected = expectedCounts(o.inputIds.length, o.outputIds.length, o.errorIds.length);
  const countsMatch = sameCounts(o.requestCounts, expected);
  const left = leftovers(o.queues);
  const sample = (xs: string[]) => `${xs.slice(0, 5).join(', ')}${xs.length > 5 ? ', …' : ''}`;
  const problems = [
    ...(terminal ? [] : [`batch not terminal: ${o.status}`]),
    ...(ids.lost.length ? [`${ids.lost.length} lost: ${sample(ids.lost)}`] : []),
    ...(ids.duplicated.length ? [`${ids.duplicated.length} duplicated: ${sample(ids.duplicated)}`] : []),
    ...(ids.unexpected.length ? [`${ids.unexpected.length} unexpected: ${sample(ids.unexpected)}`] : []),
    ...(countsMatch
      ? []
      : [`request_counts ${JSON.stringify(o.requestCounts ?? null)}, files say ${JSON.stringify(expected)}`]),
    ...left.map(
      (q) => `leftover in ${q.queue}: ${q.visible} visible, ${q.notVisible} in flight, ${q.delayed} delayed`,
    ),
  ];
  return { terminal, ...ids, expectedCounts: expected, countsMatch, leftovers: left, problems };
}

/** One run as the report keeps it. */
export interface RunRecord {
  scenario: string;
  run: number;
  requests: number;
  batchId: string;
  status: string;
  /** From batch creation to a terminal status, seconds; null when it never got there. */
  secondsToTerminal: number | null;
  /** Moments of the run, seconds after the batch was created (queues settled; the restart scenario's kill and restart). */
  timings?: Record<string, number>;
  lost: number;
  duplicated: number;
  unexpected: number;
  countsMatch: boolean;
  leftovers: number;
  /** What the fault injector did (kills, copies sent, 409s, restarts…). */
  faults: Record<string, number>;
  problems: string[];
}

export interface ScenarioSummary {
  scenario: string;
  runs: number;
  terminal: number;
  requests: number;
  lost: number;
  duplicated: number;
  countMismatches: number;
  leftovers: number;
  /** Seconds to terminal over the runs that got there. */
  medianSeconds: number | null;
  maxSeconds: number | null;
  faults: Record<string, number>;
  clean: boolean;
}

export function summarize(records: readonly RunRecord[]): ScenarioSummary[] {
  const byScenario = new Map<string, RunRecord[]>();
  for (const r of records) byScenario.set(r.scenario, [...(byScenario.get(r.scenario) ?? []), r]);
  return [...byScenario.entries()].map(([scenario, runs]) => {
    const times = runs
      .map((r) => r.secondsToTerminal)
      .filter((t): t is number => t !== null)
      .sort((a, b) => a - b);
    const faults: Record<string, number> = {};
    for (const r of runs) for (const [k, v] of Object.entries(r.faults)) faults[k] = (faults[k] ?? 0) + v;
    const sum = (f: (r: RunRecord) => number) => runs.reduce((n, r) => n + f(r), 0);
    return {
      scenario,
      runs: runs.length,
      terminal: runs.filter((r) => r.secondsToTerminal !== null && isTerminal(r.status)).length,
      requests: sum((r) => r.requests),
      lost: sum((r) => r.lost),
      duplicated: sum((r) => r.duplicated),
      countMismatches: runs.filter((r) => !r.countsMatch).length,
      leftovers: sum((r) => r.leftovers),
      medianSeconds: times.length ? median(times) : null,
      maxSeconds: times.length ? (times.at(-1) ?? null) : null,
      faults: sortedKeys(faults),
      clean: runs.every((r) => r.problems.length === 0),
    };
  });
}

/** The same counts with their keys in order, so that reports read alike from run to run. */
export const sortedKeys = (counts: Record<string, number>): Record<string, number> =>
  Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));

function median(sorted: readonly number[]): number {
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

const seconds = (s: number | null) => (s === null ? '—' : s.toFixed(1));

/** The report's table, in Markdown (which also reads well in a terminal). */
export function table(summaries: readonly ScenarioSummary[]): string {
  const head = [
    'scenario',
    'runs',
    'terminal',
    'requests',
    'lost',
    'duplicated',
    'counts off',
    'leftover msgs',
    'time to terminal, median / max (s)',
    'faults injected',
  ];
  const rows = summaries.map((s) => [
    s.scenario,
    String(s.runs),
    `${s.terminal}/${s.runs}`,
    String(s.requests),
    String(s.lost),
    String(s.duplicated),
    String(s.countMismatches),
    String(s.leftovers),
    `${seconds(s.medianSeconds)} / ${seconds(s.maxSeconds)}`,
    Object.entries(s.faults)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || '—',
  ]);
  const total = summaries.reduce(
    (t, s) => ({
      runs: t.runs + s.runs,
      terminal: t.terminal + s.terminal,
      requests: t.requests + s.requests,
      lost: t.lost + s.lost,
      duplicated: t.duplicated + s.duplicated,
      off: t.off + s.countMismatches,
      left: t.left + s.leftovers,
    }),
    { runs: 0, terminal: 0, requests: 0, lost: 0, duplicated: 0, off: 0, left: 0 },
  );
  rows.push([
    '**all**',
    String(total.runs),
    `${total.terminal}/${total.runs}`,
    String(total.requests),
    String(total.lost),
    String(total.duplicated),
    String(total.off),
    String(total.left),
    '',
    '',
  ]);
  // Padded, as Biome formats a Markdown table (and as it reads in a terminal).
  const width = (cell: string) => [...cell].length;
  const widths = head.map((h, i) => Math.max(3, width(h), ...rows.map((r) => width(r[i] ?? ''))));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => c + ' '.repeat((widths[i] ?? 0) - width(c))).join(' | ')} |`;
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
