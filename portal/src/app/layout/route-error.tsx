import { isRouteErrorResponse, useRouteError } from 'react-router';
import { ButtonLink } from '../../components/ui/button';
import { ErrorState } from '../../components/ui/error-state';
import { useDocumentTitle } from '../../hooks/use-document-title';

export function RouteError() {
  const error = useRouteError();
  useDocumentTitle('Error');
  const shown = isRouteErrorResponse(error) ? new Error(`${error.status} ${error.statusText}`) : error;
  return (
    <main className="mx-auto max-w-2xl p-8">
      <ErrorState error={shown} title="This page failed to load" />
      <ButtonLink to="/" className="mt-4">
        Back to the dashboard
      </ButtonLink>
    </main>
  );
}
