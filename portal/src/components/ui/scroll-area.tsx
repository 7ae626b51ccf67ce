import type { ReactNode } from 'react';

/**
 * A region that may scroll (wide tables, long lists). It is focusable and named, so keyboard
 * users can scroll it with the arrow keys (WCAG 2.1.1; axe's scrollable-region-focusable).
 */
export function ScrollArea(props: { label: string; className?: string; children: ReactNode }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must take focus to be scrolled by keyboard
    <section aria-label={props.label} tabIndex={0} className={props.className}>
      {props.children}
    </section>
  );
}
