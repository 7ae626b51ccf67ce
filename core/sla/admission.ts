import type { Deps } from '../app/deps.js';
import type { BatchRecord } from '../batches/batch-record.js';
import type { BatchError, BatchPriority } from '../openai/schemas.js';
import { type Admission, admit, type PolicyBatch } from '../policy/index.js';
import { policyInput, remainingRequests, toPolicyBatch } from './policy-inputs.js';

type AdmissionDeps = Pick<Deps, 'batches' | 'sla' | 'limits'>;

/** Error code of a batch refused because its window cannot be met (a 400 at create, a failed batch after validation). */
export const WINDOW_INFEASIBLE = 'completion_window_infeasible';

/**
 * The batches already running, as the policy sees them (remaining requests from their counters).
 * Today one spot and one dedicated pool serve every model, so every running batch competes for the
 * same capacity whatever its model.
 */
async function runningBatches(deps: AdmissionDeps, except?: string): Promise<PolicyBatch[]> {
  const active = await deps.batches.listActive();
  return active
    .filter((b) => b.status === 'in_progress' && b.id !== except && remainingRequests(b) > 0)
    .map((b) => toPolicyBatch(b));
}

/**
 * The model named in admission's reasons before validation has read one: the deployment's only
 * model when MODELS lists one, else `any` (one pair of pools serves every model today).
 */
const modelLabel = (limits: Pick<Deps['limits'], 'MODELS'>, model?: string): string =>
  model ?? (limits.MODELS.length === 1 ? (limits.MODELS[0] as string) : 'any');

/** Requests an input of `bytes` is assumed to hold at create, before any line is read. */
export const estimatedRequests = (bytes: number, bytesPerRequest: number): number =>
  Math.max(1, Math.ceil(bytes / bytesPerRequest));

/**
 * Admission at create, before the file is read and without a look at other batches (the API
 * answers in one write and one message): the requests are estimated from the input's size
 * (SLA_ADMISSION_BYTES_PER_REQUEST), and core/policy `admit` judges whether every dedicated task
 * the deployment may run could finish them inside the window. The reason says that the figure is
 * an estimate. The running batches are weighed when validation ends (`admitValidated`).
 */
export function admitAtCreate(
  deps: Pick<Deps, 'sla' | 'limits'>,
  candidate: { tenant: string; priority: BatchPriority; inputBytes: number; nowMs: number; windowMs: number },
): Admission {
  const requests = estimatedRequests(candidate.inputBytes, deps.sla.SLA_ADMISSION_BYTES_PER_REQUEST);
  const batch: PolicyBatch = {
    id: '(new batch)',
    tenant: candidate.tenant,
    priority: candidate.priority,
    createdMs: candidate.nowMs,
    deadlineMs: candidate.nowMs + candidate.windowMs,
    remainingRequests: requests,
  };
  const admission = admit(batch, policyInput(deps, candidate.nowMs, modelLabel(deps.limits), [], []));
  const estimate = `Estimated from the input file's size (${candidate.inputBytes} bytes, about ${requests} requests at ${deps.sla.SLA_ADMISSION_BYTES_PER_REQUEST} bytes each): `;
  if (!admission.accepted) return { accepted: false, reason: estimate + admission.reason };
  return admission.warning ? { accepted: true, warning: estimate + admission.warning } : admission;
}

export type ValidatedAdmission = { ok: true } | { ok: false; errors: BatchError[] };

/**
 * Admission again once validation has counted the batch's requests (`total`), against the batches
 * running then. A refusal fails the batch with `completion_window_infeasible`; with
 * SLA_ADMISSION=warn the batch runs and `admission_warning` is set from the exact count (or
 * cleared, when the estimate at create was pessimistic).
 */
export async function admitValidated(
  deps: AdmissionDeps,
  batch: BatchRecord,
  total: number,
  nowMs: number,
): Promise<ValidatedAdmission> {
  const others = await runningBatches(deps, batch.id);
  const admission = admit(
    toPolicyBatch(batch, total),
    policyInput(deps, nowMs, modelLabel(deps.limits, batch.model), others, []),
  );
  if (!admission.accepted) {
    return {
      ok: false,
      errors: [
        { code: WINDOW_INFEASIBLE, message: admission.reason, param: 'completion_window', line: null },
      ],
    };
  }
  const warning = admission.warning ?? null;
  if (warning !== (batch.admission_warning ?? null)) {
    await deps.batches.update({ tenant: batch.tenant, batchId: batch.id }, { admission_warning: warning });
  }
  return { ok: true };
}
