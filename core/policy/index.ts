/**
 * The scheduling policy: pure functions of the inputs they are handed (no AWS, no clock). The
 * scheduler, the SLA monitor, the scaling signal and the simulator (test/simulate) all call it.
 */
export { type Admission, admit, formatDuration } from './admission.js';
export { type DesiredTasksInput, desiredTasks } from './capacity.js';
export { decide, type PolicyDecision } from './decide.js';
export { nextEscalation, type Route, type RouteContext, type RouteReason, routeBatch } from './escalation.js';
export { type Candidate, fairShares, pickNext, priorityWindow } from './fair-share.js';
export { byDeadline, deadlinePressure, type PressureOptions, startupOfMax } from './pressure.js';
export { interruptionRate, spotIsCheaper, spotLossFraction, type TaskRate, taskRate } from './throughput.js';
export * from './types.js';
