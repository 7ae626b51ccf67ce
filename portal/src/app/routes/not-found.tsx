import { Compass } from 'lucide-react';
import { ButtonLink } from '../../components/ui/button';
import { Card } from '../../components/ui/card';
import { EmptyState } from '../../components/ui/empty-state';
import { useDocumentTitle } from '../../hooks/use-document-title';

function NotFoundRoute() {
  useDocumentTitle('Page not found');
  return (
    <Card>
      <EmptyState
        icon={Compass}
        title="Page not found"
        action={<ButtonLink to="/">Go to the dashboard</ButtonLink>}
      >
        There is nothing at this address.
      </EmptyState>
    </Card>
  );
}

export { NotFoundRoute as Component };
