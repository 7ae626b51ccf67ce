/**
 * Completion windows: a whole number of seconds, minutes, hours or days (`20s`, `90m`, `24h`,
 * `7d`). The allowlist (COMPLETION_WINDOWS) is parsed once with the configuration; a request's
 * window is accepted when it lasts exactly as long as one of the allowlist's, so `1d` and `24h`
 * are the same window, and the batch echoes the string the client sent.
 */

const unitMs = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** OpenAI's window, accepted by every deployment whatever its allowlist says. */
export const OPENAI_WINDOW = '24h';

/** The default allowlist: OpenAI's 24 h and the windows openbatch adds beside it. */
export const DEFAULT_COMPLETION_WINDOWS = ['1h', '4h', '24h', '72h', '7d'] as const;

/** A window's length in milliseconds, or undefined when it is not `<positive integer><s|m|h|d>`. */
export function parseWindow(window: string): number | undefined {
  const m = /^([1-9]\d{0,6})([smhd])$/.exec(window);
  if (!m) return undefined;
  return Number(m[1]) * unitMs[m[2] as keyof typeof unitMs];
}

export interface WindowAllowlist {
  /** The windows as configured (24h included), for messages. */
  readonly names: readonly string[];
  /** Their lengths, for matching. */
  readonly lengthsMs: ReadonlySet<number>;
}

/**
 * The allowlist from its configured entries, with OpenAI's `24h` added when it is missing.
 * Throws naming every entry that is not a window.
 */
export function windowAllowlist(entries: readonly string[]): WindowAllowlist {
  const bad = entries.filter((w) => parseWindow(w) === undefined);
  if (bad.length > 0)
    throw new Error(
      `not completion windows: ${bad.map((w) => `'${w}'`).join(', ')} (a whole number and s, m, h or d, e.g. 4h or 7d)`,
    );
  const names = entries.includes(OPENAI_WINDOW) ? [...entries] : [OPENAI_WINDOW, ...entries];
  return { names, lengthsMs: new Set(names.map((w) => parseWindow(w) as number)) };
}

/** The length of `window` when the allowlist holds a window that long, else undefined. */
export function allowedWindowMs(allowlist: WindowAllowlist, window: string): number | undefined {
  const ms = parseWindow(window);
  return ms !== undefined && allowlist.lengthsMs.has(ms) ? ms : undefined;
}
