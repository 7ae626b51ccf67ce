import { useSearchParams } from 'react-router';
import { ErrorState } from '../../components/ui/error-state';
import { PageHeader } from '../../components/ui/page-header';
import { Spinner } from '../../components/ui/spinner';
import { useBatch } from '../../features/batches/api/get-batch';
import { type BatchTemplate, CreateBatchForm } from '../../features/batches/components/create-batch-form';
import { useDocumentTitle } from '../../hooks/use-document-title';

function NewBatchRoute() {
  const [params] = useSearchParams();
  const from = params.get('from');
  useDocumentTitle(from ? `Clone ${from}` : 'New batch');
  return (
    <>
      <PageHeader
        crumbs={[
          { label: 'Dashboard', to: '/' },
          { label: 'Batches', to: '/batches' },
          ...(from
            ? [{ label: from, to: `/batches/${from}` }, { label: 'Clone' }]
            : [{ label: 'New batch' }]),
        ]}
        title={from ? 'Clone batch' : 'New batch'}
        description={
          from ? (
            <>
              Starts from the settings and input file of <span className="font-mono">{from}</span>.
            </>
          ) : (
            'Upload a JSONL file of requests and choose how to run it.'
          )
        }
      />
      {from ? <CloneForm from={from} /> : <CreateBatchForm />}
    </>
  );
}

function CloneForm({ from }: { from: string }) {
  const q = useBatch(from);
  if (q.isPending) return <Spinner label="Loading the batch to clone…" />;
  if (q.isError) return <ErrorState error={q.error} title={`Could not load ${from}`} />;
  const b = q.data;
  const template: BatchTemplate = {
    id: b.id,
    endpoint: b.endpoint,
    completion_window: b.completion_window,
    metadata: b.metadata,
    input_file_id: b.input_file_id,
    priority: b.openbatch?.priority ?? 'normal',
    dedup: b.openbatch?.dedup ?? 'on',
  };
  return <CreateBatchForm key={b.id} template={template} />;
}

export { NewBatchRoute as Component };
