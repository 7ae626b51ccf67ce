import { functions } from '../app/declaration.js';

/** The SLA monitor's period (its schedule trigger in core/app/declaration.ts), in seconds. */
export function slaMonitorPeriodSeconds(): number {
  const t = functions.slaMonitor.triggers.find((x) => x.kind === 'schedule');
  if (t?.kind !== 'schedule') throw new Error('slaMonitor has no schedule trigger');
  return t.everySeconds;
}

/**
 * SLA_EXPIRY_LOOKAHEAD_SECONDS for a monitor that sweeps every `periodSeconds`: the period, so
 * every batch expires at its window's second, not up to a period late; 0 (expiry at the next
 * sweep) when the period is longer than the monitor can wait (its Lambda runs at most 300 s).
 */
export const expiryLookaheadSeconds = (periodSeconds: number): number =>
  periodSeconds <= 240 ? periodSeconds : 0;
