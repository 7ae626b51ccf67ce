import { describe, expect, it } from 'vitest';
import { allowedWindowMs, parseWindow, windowAllowlist } from '../../../../core/sla/windows.js';

const S = 1_000;
const H = 3_600 * S;

describe('parseWindow', () => {
  it.each([
    ['20s', 20 * S],
    ['90m', 90 * 60 * S],
    ['1h', H],
    ['24h', 24 * H],
    ['72h', 72 * H],
    ['7d', 7 * 24 * H],
  ])('%s lasts %i ms', (w, ms) => expect(parseWindow(w)).toBe(ms));

  it.each(['', '0s', '05h', '1.5h', '1w', '24H', '24 h', 'h', '24', '-1h', '99999999d'])('refuses %j', (w) =>
    expect(parseWindow(w)).toBeUndefined(),
  );
});

describe('windowAllowlist and allowedWindowMs', () => {
  it.each<[string[], string, number | undefined]>([
    [['1h', '4h', '24h', '72h', '7d'], '4h', 4 * H],
    [['1h', '4h', '24h', '72h', '7d'], '7d', 7 * 24 * H],
    [['1h', '4h', '24h', '72h', '7d'], '168h', 7 * 24 * H], // the same length as 7d
    [['1h', '4h', '24h', '72h', '7d'], '2h', undefined],
    [['1h', '4h', '24h', '72h', '7d'], 'soon', undefined],
    [['1h'], '24h', 24 * H], // OpenAI's window, always
    [['1h'], '1d', 24 * H],
    [['20s'], '20s', 20 * S],
    [['20s'], '21s', undefined],
  ])('allowlist %j: %s -> %s', (entries, w, ms) => {
    expect(allowedWindowMs(windowAllowlist(entries), w)).toBe(ms);
  });

  it('lists 24h first when the configuration leaves it out, and keeps the configured order otherwise', () => {
    expect(windowAllowlist(['1h', '20s']).names).toEqual(['24h', '1h', '20s']);
    expect(windowAllowlist(['1h', '24h', '7d']).names).toEqual(['1h', '24h', '7d']);
  });

  it('names every entry that is not a window', () => {
    expect(() => windowAllowlist(['1h', 'one day', '0h'])).toThrow("not completion windows: 'one day', '0h'");
  });
});
