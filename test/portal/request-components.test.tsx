// @vitest-environment happy-dom
import { cleanup, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useState } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RequestDrawer } from '../../portal/src/features/requests/components/request-drawer.js';
import { RequestTable } from '../../portal/src/features/requests/components/request-table.js';
import { RetryButton } from '../../portal/src/features/requests/components/retry-button.js';
import type { BatchRequest, BatchRequestDetail } from '../../portal/src/features/requests/types.js';
import { CostEstimateSummary, UsageSummary } from '../../portal/src/features/usage/components/usage-cost.js';

afterEach(cleanup);

const req = (line: number, over: Partial<BatchRequest> = {}): BatchRequest => ({
  object: 'batch.request',
  id: `line_${line}`,
  custom_id: `req-${line}`,
  line,
  status: 'succeeded',
  pool: 'spot',
  attempts: 1,
  http_status: 200,
  error_code: null,
  reused: false,
  ...over,
});
const rows = [
  req(1),
  req(2, { status: 'failed', http_status: 500, error_code: 'engine_error', attempts: 3 }),
  req(3, { custom_id: 'dup-3', reused: true }),
  req(4, { status: 'expired', http_status: null }),
  req(5, { status: 'running', pool: 'dedicated', http_status: null }),
];
const lines = () =>
  screen.getAllByTestId('request-row').map((r) => within(r).getAllByRole('cell')[0]?.textContent);
const chip = (name: RegExp) => screen.getByRole('button', { name });

/** The table with its selection held in state, as a page would hold it. */
function SelectionHarness(props: { onChange(next: Set<string>): void }) {
  const [selected, setSelected] = useState<Set<string>>(new Set());
  return (
    <RequestTable
      requests={rows}
      hasMore={false}
      onOpen={() => {}}
      selection={{
        selected,
        onChange: (next) => {
          props.onChange(next);
          setSelected(next);
        },
      }}
    />
  );
}

describe('RequestTable', () => {
  it('filters by status with counts that follow the search', async () => {
    const user = userEvent.setup();
    render(<RequestTable requests={rows} hasMore={false} onOpen={() => {}} />);
    expect(lines()).toEqual(['1', '2', '3', '4', '5']);
    expect(chip(/^All 5$/)).toBeTruthy();
    expect(chip(/^Succeeded 2$/)).toBeTruthy();
    expect(screen.queryByRole('button', { name: /^Cancelled/ })).toBeNull(); // none: no chip
    await user.click(chip(/^Failed 1$/));
    expect(lines()).toEqual(['2']);
    expect(chip(/^Failed 1$/).getAttribute('aria-pressed')).toBe('true');
    await user.click(chip(/^All/));
    await user.type(screen.getByRole('searchbox', { name: /Search requests/ }), 'req-');
    expect(chip(/^All 4$/)).toBeTruthy();
    expect(chip(/^Succeeded 1$/)).toBeTruthy();
    expect(lines()).toEqual(['1', '2', '4', '5']);
  });

  it('marks a reused request, says its status in words, and opens a row', async () => {
    const user = userEvent.setup();
    const onOpen = vi.fn();
    render(<RequestTable requests={rows} hasMore onLoadMore={() => {}} onOpen={onOpen} />);
    const dup = screen.getAllByTestId('request-row')[2] as HTMLElement;
    expect(within(dup).getByText('reused')).toBeTruthy();
    const failed = screen.getAllByTestId('request-row')[1] as HTMLElement;
    expect(within(failed).getByText('failed')).toBeTruthy();
    expect(within(failed).getByText('engine_error')).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'Open req-2' }));
    expect(onOpen).toHaveBeenCalledWith('req-2');
    expect(screen.getByText(/counts cover the loaded requests/)).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Load more requests' })).toBeTruthy();
  });

  it('lets only failed and expired requests be chosen for a retry', async () => {
    const user = userEvent.setup();
    const chosen: Set<string>[] = [];
    render(<SelectionHarness onChange={(next) => chosen.push(next)} />);
    const boxes = screen.getAllByRole('checkbox');
    expect(boxes.map((b) => b.getAttribute('aria-label'))).toEqual([
      'Choose req-2 for retry',
      'Choose req-4 for retry',
    ]);
    await user.click(boxes[0] as HTMLElement);
    await user.click(boxes[1] as HTMLElement);
    await user.click(boxes[0] as HTMLElement);
    expect(chosen.map((s) => [...s])).toEqual([['req-2'], ['req-2', 'req-4'], ['req-4']]);
  });
});

describe('RequestDrawer', () => {
  const detail: BatchRequestDetail = {
    ...req(2, { status: 'failed', http_status: 500, error_code: 'engine_error', attempts: 3 }),
    method: 'POST',
    url: '/v1/chat/completions',
    body: { model: 'sim-small', messages: [{ role: 'user', content: 'Say hello' }] },
    result: {
      id: 'batch_req_2',
      custom_id: 'req-2',
      response: { status_code: 500, request_id: 'r2', body: { error: { message: 'boom' } } },
      error: null,
    },
  };

  it('shows the facts, the input body and the result line of the request it opened', () => {
    render(<RequestDrawer customId="req-2" request={detail} onClose={() => {}} />);
    const dialog = screen.getByRole('dialog', { hidden: true });
    expect(within(dialog).getByRole('heading', { name: 'req-2', hidden: true })).toBeTruthy();
    expect(within(dialog).getByText('engine_error')).toBeTruthy();
    expect(within(dialog).getByText('3')).toBeTruthy();
    expect(dialog.textContent).toContain('Input body · POST /v1/chat/completions');
    expect(dialog.textContent).toContain('"Say hello"');
    expect(dialog.textContent).toContain('"boom"');
  });

  it('waits for the right request, and says when a request has no result yet', () => {
    const view = render(<RequestDrawer customId="req-9" request={detail} onClose={() => {}} />);
    expect(screen.getByRole('status', { hidden: true }).textContent).toContain('Loading the request');
    view.rerender(
      <RequestDrawer
        customId="req-5"
        request={{
          ...req(5, { status: 'running', http_status: null }),
          method: 'POST',
          url: '/v1/chat/completions',
          body: {},
          result: null,
        }}
        onClose={() => {}}
      />,
    );
    expect(screen.getByText('No result yet: the request has not finished.')).toBeTruthy();
  });

  it('closes from its close button', async () => {
    const user = userEvent.setup();
    const onClose = vi.fn();
    render(<RequestDrawer customId="req-2" request={detail} onClose={onClose} />);
    await user.click(screen.getByRole('button', { name: 'Close request', hidden: true }));
    expect(onClose).toHaveBeenCalled();
  });
});

describe('UsageSummary and CostEstimateSummary', () => {
  it('shows tokens with their cached and reasoning parts', () => {
    render(
      <UsageSummary
        usage={{
          input_tokens: 12_000,
          input_tokens_details: { cached_tokens: 3_000 },
          output_tokens: 4_500,
          output_tokens_details: { reasoning_tokens: 0 },
          total_tokens: 16_500,
        }}
      />,
    );
    const usage = screen.getByTestId('usage');
    expect(usage.textContent).toBe(
      'Input tokens12,0003,000 cachedOutput tokens4,5000 reasoningTotal tokens16,500',
    );
  });

  it('names the cost an estimate, splits it by pool, sets it against all-dedicated and gives its basis', () => {
    render(
      <CostEstimateSummary
        cost={{
          total: 3,
          by_pool: { spot: 2, dedicated: 1 },
          all_dedicated: 12,
          saving: 9,
          basis: '5 requests/s per task; $0.3 (spot) and $0.8048 (on-demand) per task-hour',
        }}
      />,
    );
    const cost = screen.getByTestId('cost-estimate');
    expect(within(cost).getByText('estimate')).toBeTruthy();
    expect(cost.textContent).toContain('$3.00');
    expect(screen.getByTestId('cost-pool-spot').textContent).toBe('Spot $2.00 (67%)');
    expect(cost.textContent).toContain(
      'All on dedicated, an estimated $12.00: spot saved an estimated $9.00 (75%).',
    );
    expect(screen.getByTestId('cost-basis').textContent).toBe(
      'GPU time only (no start-up, idle time or storage), at 5 requests/s per task; $0.3 (spot) and $0.8048 (on-demand) per task-hour.',
    );
    expect(screen.queryByTestId('cost-reuse')).toBeNull();
  });

  it('says what reused answers saved, when some were reused', () => {
    render(
      <CostEstimateSummary
        cost={{
          total: 1,
          by_pool: { spot: 1, dedicated: 0 },
          all_dedicated: 4,
          saving: 3,
          saved_by_reuse: 0.5,
        }}
      />,
    );
    expect(screen.getByTestId('cost-reuse').textContent).toBe(
      'Answers reused from earlier requests saved an estimated $0.50 more.',
    );
  });
});

describe('RetryButton', () => {
  it('retries every failed and expired request by default, after confirmation', async () => {
    const user = userEvent.setup();
    const onRetry = vi.fn();
    render(<RetryButton retryable={3} chosen={[]} onRetry={onRetry} />);
    await user.click(screen.getByRole('button', { name: 'Retry failed' }));
    const dialog = screen.getByRole('dialog', { hidden: true });
    expect(dialog.textContent).toContain('runs the 3 failed and expired requests again');
    await user.click(within(dialog).getByRole('button', { name: 'Create retry batch', hidden: true }));
    expect(onRetry).toHaveBeenCalledWith({});
  });

  it('retries only the chosen requests when some are chosen', async () => {
    const user = userEvent.setup();
    const onRetry = vi.fn();
    render(<RetryButton retryable={3} chosen={['req-2', 'req-4']} onRetry={onRetry} />);
    await user.click(screen.getByRole('button', { name: 'Retry 2 chosen' }));
    await user.click(screen.getByRole('button', { name: 'Create retry batch', hidden: true }));
    expect(onRetry).toHaveBeenCalledWith({ custom_ids: ['req-2', 'req-4'] });
  });

  it('is disabled, saying why, when nothing can be retried', () => {
    const view = render(<RetryButton retryable={0} chosen={[]} onRetry={() => {}} />);
    const button = screen.getByRole('button', { name: 'Retry failed' }) as HTMLButtonElement;
    expect(button.disabled).toBe(true);
    expect(button.title).toBe('No failed or expired request to retry.');
    view.rerender(
      <RetryButton
        retryable={4}
        chosen={[]}
        disabledReason="The batch is still running."
        onRetry={() => {}}
      />,
    );
    expect(button.disabled).toBe(true);
    expect(button.title).toBe('The batch is still running.');
  });
});
