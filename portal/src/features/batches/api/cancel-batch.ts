import { useMutation, useQueryClient } from '@tanstack/react-query';
import { toast } from 'sonner';
import { errorMessage } from '../../../lib/api-client';
import { useApiClient } from '../../../lib/api-context';
import type { Batch } from '../../../types/api';
import type { BatchView } from './get-batch';

export function useCancelBatch() {
  const client = useApiClient();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => client.post<Batch>(`/batches/${encodeURIComponent(id)}/cancel`),
    onSuccess: (batch) => {
      qc.setQueryData(['batches', 'detail', batch.id], batch);
      // The batch page's snapshot takes the new status at once; the refetch below brings its chunks.
      qc.setQueryData<BatchView>(['batches', 'detail', batch.id, 'view'], (old) =>
        old ? { ...old, batch } : old,
      );
      void qc.invalidateQueries({ queryKey: ['batches'] });
      toast.success(`Cancelling ${batch.id}`, {
        description: 'Unstarted work is dropped; finished requests stay in the output file.',
      });
    },
    onError: (err) => toast.error('Could not cancel the batch', { description: errorMessage(err) }),
  });
}
