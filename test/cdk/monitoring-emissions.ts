import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * The metrics the code emits, read from its `emitMetrics(dimensions, values)` calls (the EMF
 * helper in core/observability/metrics.ts) without running it. Both arguments are read as object
 * literals: the dimension names with their values where they are string literals, and the metric
 * names. A call whose arguments are not object literals is reported as a problem rather than
 * skipped, so that no emission escapes the catalog cross-check.
 */

export interface Emission {
  /** Path relative to the repository root. */
  readonly file: string;
  readonly line: number;
  /** Dimension name → its value when it is a string literal, `null` when computed. */
  readonly dimensions: Readonly<Record<string, string | null>>;
  readonly metrics: readonly string[];
}

export interface EmissionScan {
  readonly emissions: readonly Emission[];
  /** Calls that could not be read, and files that use the helper without a readable call. */
  readonly problems: readonly string[];
}

export const helperName = 'emitMetrics';
export const helperModule = 'core/observability/metrics.ts';

/** Where code that emits metrics lives. */
export const emittingRoots = ['lambdas', 'gpu-worker/src', 'core'] as const;

/** The source text with comments blanked and string contents replaced by spaces (same offsets). */
function mask(text: string): string {
  const out = text.split('');
  let i = 0;
  const blank = (from: number, to: number) => {
    for (let k = from; k < to; k++) if (out[k] !== '\n') out[k] = ' ';
  };
  while (i < text.length) {
    const c = text[i];
    const next = text[i + 1];
    if (c === '/' && next === '/') {
      const end = text.indexOf('\n', i);
      const stop = end < 0 ? text.length : end;
      blank(i, stop);
      i = stop;
    } else if (c === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? text.length : end + 2;
      blank(i, stop);
      i = stop;
    } else if (c === "'" || c === '"' || c === '`') {
      let k = i + 1;
      while (k < text.length && text[k] !== c) k += text[k] === '\\' ? 2 : 1;
      blank(i + 1, k);
      i = k + 1;
    } else i++;
  }
  return out.join('');
}

/** The top-level comma-separated parts of `text` (outside brackets), with their offsets. */
function splitWithOffsets(text: string): { text: string; start: number }[] {
  const parts: { text: string; start: number }[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = text[i];
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (i === text.length || (c === ',' && depth === 0)) {
      if (text.slice(start, i).trim() !== '') parts.push({ text: text.slice(start, i), start });
      start = i + 1;
    }
  }
  return parts;
}

/**
 * The entries of an object literal: key → string-literal value or `null`; a string says why
 * the text is not a readable object literal. `masked` is `raw` with strings blanked (the same
 * offsets), used to find the structure; `raw` gives the keys and literal values.
 */
function objectLiteral(raw: string, masked: string): Record<string, string | null> | string {
  const open = masked.indexOf('{');
  const close = masked.lastIndexOf('}');
  if (open < 0 || masked.slice(0, open).trim() !== '' || masked.slice(close + 1).trim() !== '')
    return 'not an object literal';
  const out: Record<string, string | null> = {};
  for (const part of splitWithOffsets(masked.slice(open + 1, close))) {
    const at = open + 1 + part.start;
    const entry = raw.slice(at, at + part.text.length).trim();
    const maskedEntry = part.text.trim();
    if (maskedEntry.startsWith('...')) return 'a spread entry';
    const colon = maskedEntry.indexOf(':');
    const rawKey = (colon < 0 ? entry : entry.slice(0, colon)).trim();
    const key = /^(['"]).*\1$/.test(rawKey) ? rawKey.slice(1, -1) : rawKey;
    if (!/^[A-Za-z_$][\w$]*$/.test(key)) return `a computed key (${rawKey})`;
    const literal = colon < 0 ? null : /^(['"])([^'"\\]*)\1$/.exec(entry.slice(colon + 1).trim());
    out[key] = literal ? (literal[2] as string) : null;
  }
  return out;
}

/** The emissions in one source file. */
export function emissionsIn(file: string, text: string): EmissionScan {
  const masked = mask(text);
  const emissions: Emission[] = [];
  const problems: string[] = [];
  const call = new RegExp(`\\b${helperName}\\s*\\(`, 'g');
  for (let m = call.exec(masked); m; m = call.exec(masked)) {
    const before = masked.slice(Math.max(0, m.index - 20), m.index);
    if (/function\s+$/.test(before)) continue;
    const line = text.slice(0, m.index).split('\n').length;
    const open = m.index + m[0].length - 1;
    let depth = 0;
    let close = -1;
    for (let i = open; i < masked.length; i++) {
      if ('([{'.includes(masked[i] as string)) depth++;
      else if (')]}'.includes(masked[i] as string) && --depth === 0) {
        close = i;
        break;
      }
    }
    if (close < 0) {
      problems.push(`${file}:${line}: unbalanced ${helperName}( call`);
      continue;
    }
    const args = splitWithOffsets(masked.slice(open + 1, close)).map((p) => ({
      masked: p.text,
      raw: text.slice(open + 1 + p.start, open + 1 + p.start + p.text.length),
    }));
    if (args.length < 2) {
      problems.push(`${file}:${line}: ${helperName} needs (dimensions, values)`);
      continue;
    }
    const [dims, values] = args as [(typeof args)[number], (typeof args)[number]];
    const d = objectLiteral(dims.raw, dims.masked);
    const v = objectLiteral(values.raw, values.masked);
    if (typeof d === 'string' || typeof v === 'string') {
      problems.push(
        `${file}:${line}: ${helperName} arguments must be object literals so the catalog check can read them (${typeof d === 'string' ? `dimensions: ${d}` : `values: ${v}`})`,
      );
      continue;
    }
    emissions.push({ file, line, dimensions: d, metrics: Object.keys(v) });
  }
  if (emissions.length === 0 && problems.length === 0 && /observability\/metrics(\.js)?['"]/.test(text))
    problems.push(`${file}: imports the metrics helper but no ${helperName}(...) call was found`);
  return { emissions, problems };
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) return [];
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(name) && !/\.(test|d)\.tsx?$/.test(name) ? [path] : [];
  });
}

/** Every emission under the emitting roots of the repository. */
export function scanEmissions(root: string): EmissionScan {
  const emissions: Emission[] = [];
  const problems: string[] = [];
  for (const dir of emittingRoots) {
    for (const path of sourceFiles(join(root, dir))) {
      const file = relative(root, path);
      if (file === helperModule) continue;
      const scan = emissionsIn(file, readFileSync(path, 'utf8'));
      emissions.push(...scan.emissions);
      problems.push(...scan.problems);
    }
  }
  return { emissions, problems };
}
