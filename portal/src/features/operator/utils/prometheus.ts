/**
 * Prometheus' text exposition format (0.0.4), as the local runtime's `GET /metrics` writes it
 * (core/observability/prometheus.ts): `# HELP` and `# TYPE` lines, then one sample a line,
 * `name{label="value",…} value [timestamp]`. Pure, for tests.
 */

export type MetricType = 'counter' | 'gauge' | 'summary' | 'histogram' | 'untyped';

export interface Sample {
  /** The sample's own name: a summary's `_sum` and `_count` keep their suffix. */
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: MetricType;
  help: string;
  samples: Sample[];
}

export type Exposition = Map<string, Family>;

export class PrometheusParseError extends Error {
  override name = 'PrometheusParseError';
}

const TYPES: readonly MetricType[] = ['counter', 'gauge', 'summary', 'histogram', 'untyped'];
const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const SUFFIXES = ['_sum', '_count', '_bucket'] as const;

function parseValue(raw: string, lineNo: number): number {
  if (raw === '+Inf' || raw === 'Inf') return Number.POSITIVE_INFINITY;
  if (raw === '-Inf') return Number.NEGATIVE_INFINITY;
  if (raw === 'NaN') return Number.NaN;
  const n = Number(raw);
  if (raw === '' || Number.isNaN(n))
    throw new PrometheusParseError(`line ${lineNo}: '${raw}' is not a number`);
  return n;
}

/** The labels between `{` and `}` starting at `text[0] === '{'`; returns them and the rest. */
function parseLabels(text: string, lineNo: number): [Record<string, string>, string] {
  const labels: Record<string, string> = {};
  let i = 1;
  const fail = (why: string): never => {
    throw new PrometheusParseError(`line ${lineNo}: ${why}`);
  };
  for (;;) {
    while (text[i] === ' ') i += 1;
    if (text[i] === '}') return [labels, text.slice(i + 1)];
    const name = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(text.slice(i))?.[0];
    if (!name) fail('a label name was expected');
    i += (name as string).length;
    while (text[i] === ' ') i += 1;
    if (text[i] !== '=') fail(`'=' was expected after label ${name}`);
    i += 1;
    while (text[i] === ' ') i += 1;
    if (text[i] !== '"') fail(`label ${name}'s value must be quoted`);
    i += 1;
    let value = '';
    for (;;) {
      const c = text[i];
      if (c === undefined) fail(`label ${name}'s value is not closed`);
      if (c === '"') break;
      if (c === '\\') {
        const next = text[i + 1];
        value += next === 'n' ? '\n' : next === '\\' ? '\\' : next === '"' ? '"' : `\\${next ?? ''}`;
        i += 2;
        continue;
      }
      value += c;
      i += 1;
    }
    i += 1;
    labels[name as string] = value;
    while (text[i] === ' ') i += 1;
    if (text[i] === ',') i += 1;
    else if (text[i] !== '}') fail(`',' or '}' was expected after label ${name}`);
  }
}

/** The family a sample belongs to: a summary's `x_sum` and `x_count` are family `x`. */
function familyOf(name: string, families: Exposition): string {
  if (families.has(name)) return name;
  for (const s of SUFFIXES) {
    if (!name.endsWith(s)) continue;
    const base = name.slice(0, -s.length);
    const f = families.get(base);
    if (f && (f.type === 'summary' || f.type === 'histogram')) return base;
  }
  return name;
}

/**
 * Parses a whole exposition. Samples without a `# TYPE` are `untyped`; a malformed line throws
 * naming its line number, so a page that is not Prometheus text (an HTML error page) is told
 * apart from metrics.
 */
export function parsePrometheus(text: string): Exposition {
  const families: Exposition = new Map();
  const family = (name: string): Family => {
    let f = families.get(name);
    if (!f) {
      f = { name, type: 'untyped', help: '', samples: [] };
      families.set(name, f);
    }
    return f;
  };
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n += 1) {
    const lineNo = n + 1;
    const line = (lines[n] as string).trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^#\s*(HELP|TYPE)\s+([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(.*)$/.exec(line);
      if (!m) continue; // a comment
      const [, kind, name, rest] = m as unknown as [string, 'HELP' | 'TYPE', string, string];
      if (kind === 'HELP') family(name).help = rest.replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
      else {
        if (!(TYPES as readonly string[]).includes(rest))
          throw new PrometheusParseError(`line ${lineNo}: '${rest}' is not a metric type`);
        family(name).type = rest as MetricType;
      }
      continue;
    }
    const name = NAME.exec(line)?.[0];
    if (!name) throw new PrometheusParseError(`line ${lineNo}: a metric name was expected`);
    let rest = line.slice(name.length);
    let labels: Record<string, string> = {};
    if (rest.startsWith('{')) [labels, rest] = parseLabels(rest, lineNo);
    const [raw = ''] = rest.trim().split(/\s+/);
    family(familyOf(name, families)).samples.push({ name, labels, value: parseValue(raw, lineNo) });
  }
  return families;
}

const matches = (labels: Record<string, string>, want: Record<string, string>) =>
  Object.entries(want).every(([k, v]) => labels[k] === v);

/** The samples named `name` (a family's own, or its `_sum`/`_count`) whose labels include `where`. */
export function samplesOf(exp: Exposition, name: string, where: Record<string, string> = {}): Sample[] {
  const f = exp.get(familyOf(name, exp));
  return f ? f.samples.filter((s) => s.name === name && matches(s.labels, where)) : [];
}

/** The sum of the samples named `name` matching `where`; undefined when there is none. */
export function total(exp: Exposition, name: string, where: Record<string, string> = {}): number | undefined {
  const s = samplesOf(exp, name, where);
  return s.length === 0 ? undefined : s.reduce((sum, x) => sum + x.value, 0);
}

/** The samples named `name`, summed per value of `label` (series without it are left out). */
export function sumBy(
  exp: Exposition,
  name: string,
  label: string,
  where: Record<string, string> = {},
): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of samplesOf(exp, name, where)) {
    const key = s.labels[label];
    if (key === undefined) continue;
    out.set(key, (out.get(key) ?? 0) + s.value);
  }
  return out;
}

/**
 * How fast a counter grew between two scrapes, per second. Undefined without an earlier scrape
 * or time between them; a counter that went down (the runtime restarted) counts from zero, as
 * Prometheus' `rate` does.
 */
export function ratePerSecond(
  before: number | undefined,
  after: number | undefined,
  seconds: number,
): number | undefined {
  if (before === undefined || after === undefined || !(seconds > 0)) return undefined;
  const grew = after >= before ? after - before : after;
  return grew / seconds;
}

/**
 * The mean of a summary's observations between two scrapes (Δ`_sum` / Δ`_count`); undefined
 * when none were made or the summary restarted.
 */
export function meanBetween(
  before: { sum: number; count: number } | undefined,
  after: { sum: number; count: number } | undefined,
): number | undefined {
  if (!before || !after) return undefined;
  const count = after.count - before.count;
  const sum = after.sum - before.sum;
  return count > 0 && sum >= 0 ? sum / count : undefined;
}
