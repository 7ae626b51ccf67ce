import { Download } from 'lucide-react';
import { useState } from 'react';
import { toast } from 'sonner';
import { Button } from '../../../components/ui/button';
import { errorMessage } from '../../../lib/api-client';
import { useApiClient } from '../../../lib/api-context';
import { formatBytes, formatNumber } from '../../../lib/format';
import { downloadPartialOutput } from '../api/partial-output';

/**
 * "Download output so far" for a running batch: the done chunks' output lines in input order
 * (`GET /v1/openbatch/batches/{id}/partial_output`, continued while the API says there is more),
 * saved as `<batch>_output_partial.jsonl`, and said to be partial. If the batch ended meanwhile,
 * the whole output file is saved instead, named as such.
 */
export function PartialOutputButton({ batchId }: { batchId: string }) {
  const client = useApiClient();
  const [busy, setBusy] = useState(false);
  return (
    <Button
      size="sm"
      disabled={busy}
      title="The output lines of the chunks done so far; the output file comes when the batch finishes"
      onClick={async () => {
        setBusy(true);
        try {
          const out = await downloadPartialOutput(client, batchId);
          if (out.partial)
            toast.success(`Downloaded ${out.filename}`, {
              description: `Partial: ${
                out.chunksDone
                  ? `${formatNumber(out.chunksDone.done)} of ${formatNumber(out.chunksDone.total)} chunks done`
                  : 'the chunks done so far'
              }, ${formatBytes(out.bytes)}.`,
            });
          else
            toast.success(`Downloaded ${out.filename}`, {
              description: `The batch has ended: this is its whole output file, ${formatBytes(out.bytes)}.`,
            });
        } catch (err) {
          toast.error('Could not download the output so far', { description: errorMessage(err) });
        } finally {
          setBusy(false);
        }
      }}
    >
      <Download aria-hidden className="size-3.5" />
      {busy ? 'Downloading…' : 'Download output so far'}
    </Button>
  );
}
