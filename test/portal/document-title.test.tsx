// @vitest-environment happy-dom
import { cleanup, render } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { useDocumentTitle } from '../../portal/src/hooks/use-document-title.js';
import { documentTitle } from '../../portal/src/lib/document-title.js';

afterEach(cleanup);

describe('documentTitle', () => {
  it("puts the page's words first and the app's name last", () => {
    expect(documentTitle('Dashboard')).toBe('Dashboard · openbatch');
    expect(documentTitle('batch_abc', 'Completed')).toBe('batch_abc · Completed · openbatch');
  });

  it('leaves out empty parts', () => {
    expect(documentTitle('batch_abc', null, undefined, '  ')).toBe('batch_abc · openbatch');
    expect(documentTitle()).toBe('openbatch');
  });
});

function Page(props: { parts: (string | null)[] }) {
  useDocumentTitle(...props.parts);
  return null;
}

describe('useDocumentTitle', () => {
  it('sets the title while the page shows and follows it as it changes', () => {
    const view = render(<Page parts={['batch_1', null]} />);
    expect(document.title).toBe('batch_1 · openbatch');
    view.rerender(<Page parts={['batch_1', 'In progress']} />);
    expect(document.title).toBe('batch_1 · In progress · openbatch');
  });
});
