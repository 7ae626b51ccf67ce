import { ChevronDown, Download, Eye, FileText } from 'lucide-react';
import { useState } from 'react';
import { toast } from 'sonner';
import { Button } from '../../../components/ui/button';
import { CopyButton } from '../../../components/ui/copy-button';
import { errorMessage } from '../../../lib/api-client';
import { useApiClient } from '../../../lib/api-context';
import { formatBytes } from '../../../lib/format';
import { downloadFile, useFileObject } from '../api/file-content';
import { FilePreview } from './file-preview';

export interface BatchFileRef {
  role: 'input' | 'output' | 'error';
  label: string;
  id: string | null;
  /** Why there is no file yet (or none at all). */
  absentNote: string;
}

/** A batch's input, output and error files: size, download, and a preview of the first lines. */
export function ResultFiles({ files }: { files: BatchFileRef[] }) {
  return (
    <ul className="divide-y divide-line">
      {files.map((f) => (
        <FileRow key={f.role} file={f} />
      ))}
    </ul>
  );
}

function FileRow({ file }: { file: BatchFileRef }) {
  const client = useApiClient();
  const meta = useFileObject(file.id);
  const [open, setOpen] = useState(false);
  const [downloading, setDownloading] = useState(false);
  const panelId = `preview-${file.role}`;
  const filename = meta.data?.filename ?? `${file.id}.jsonl`;

  return (
    <li data-testid={`file-${file.role}`}>
      <div className="flex flex-wrap items-center justify-between gap-3 px-5 py-3">
        <div className="flex min-w-0 items-center gap-3">
          <FileText
            aria-hidden
            className={`size-5 shrink-0 ${file.id ? (file.role === 'error' ? 'text-bad' : 'text-accent') : 'text-muted/50'}`}
          />
          <div className="min-w-0">
            <p className="text-sm font-medium text-ink">{file.label}</p>
            {file.id ? (
              <p className="flex items-center gap-1 text-xs text-muted">
                <span className="font-mono">{file.id}</span>
                <CopyButton value={file.id} label={`Copy ${file.label} id`} iconOnly />
                {meta.data ? <span>· {formatBytes(meta.data.bytes)}</span> : null}
              </p>
            ) : (
              <p className="text-xs text-muted">{file.absentNote}</p>
            )}
          </div>
        </div>
        {file.id ? (
          <div className="flex items-center gap-2">
            <Button size="sm" aria-expanded={open} aria-controls={panelId} onClick={() => setOpen((o) => !o)}>
              {open ? (
                <ChevronDown aria-hidden className="size-3.5" />
              ) : (
                <Eye aria-hidden className="size-3.5" />
              )}
              {open ? 'Hide preview' : 'Preview'}
            </Button>
            <Button
              size="sm"
              disabled={downloading}
              onClick={async () => {
                if (!file.id) return;
                setDownloading(true);
                try {
                  const bytes = await downloadFile(client, file.id, filename);
                  toast.success(`Downloaded ${filename}`, { description: formatBytes(bytes) });
                } catch (err) {
                  toast.error(`Could not download ${file.label.toLowerCase()}`, {
                    description: errorMessage(err),
                  });
                } finally {
                  setDownloading(false);
                }
              }}
            >
              <Download aria-hidden className="size-3.5" />
              {downloading ? 'Downloading…' : 'Download'}
            </Button>
          </div>
        ) : null}
      </div>
      {open && file.id ? (
        <div id={panelId} className="border-t border-line bg-surface-2/30">
          <FilePreview fileId={file.id} />
        </div>
      ) : null}
    </li>
  );
}
