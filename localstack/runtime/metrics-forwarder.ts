/**
 * Preloaded (`node --import`) into each local gpu-worker process by the worker fleet: its
 * metrics flushes also go to the runtime's `GET /metrics` over the IPC channel. Local runtime
 * only; the worker's code knows nothing of it.
 */
import { forwardMetricsOverIpc } from './local-metrics.js';

forwardMetricsOverIpc();
