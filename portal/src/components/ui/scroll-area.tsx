import { clsx } from 'clsx';
import type { ReactNode } from 'react';

/**
 * A region that may scroll (wide tables, long lists). It is focusable and named, so keyboard
 * users can scroll it with the arrow keys (WCAG 2.1.1; axe's scrollable-region-focusable).
 *
 * It is positioned (`relative`) so that it is the containing block of what it holds: a visually
 * hidden (`sr-only`, absolutely positioned) header of a wide table is then clipped by the region,
 * instead of escaping it and making the whole page scroll sideways on a narrow screen.
 */
export function ScrollArea(props: { label: string; className?: string; children: ReactNode }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must take focus to be scrolled by keyboard
    <section aria-label={props.label} tabIndex={0} className={clsx('relative', props.className)}>
      {props.children}
    </section>
  );
}
