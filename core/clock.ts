/** Time comes from here so tests can move it; production uses the wall clock. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export const toUnixSeconds = (ms: number): number => Math.floor(ms / 1000);
