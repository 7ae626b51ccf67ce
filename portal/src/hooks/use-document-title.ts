import { useEffect } from 'react';
import { documentTitle } from '../lib/document-title';

/** Sets the document's title while the calling page is shown (see `documentTitle`). */
export function useDocumentTitle(...parts: (string | null | undefined)[]): void {
  const title = documentTitle(...parts);
  useEffect(() => {
    document.title = title;
  }, [title]);
}
