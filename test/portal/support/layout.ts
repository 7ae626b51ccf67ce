import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { SCREENSHOTS } from './browser.js';

export const DESKTOP = { width: 1440, height: 900 } as const;
export const PHONE = { width: 390, height: 844 } as const;

/**
 * How wide the page is against its window, and (when it is wider) the first elements that
 * stick out past the right edge, outside any scrolling region, to say what overflows.
 */
export async function horizontalOverflow(page: Page) {
  return page.evaluate(() => {
    const width = window.innerWidth;
    const scrollWidth = document.documentElement.scrollWidth;
    const culprits: string[] = [];
    if (scrollWidth > width) {
      const scrolls = (el: Element) => ['auto', 'scroll', 'hidden'].includes(getComputedStyle(el).overflowX);
      for (const el of document.querySelectorAll<HTMLElement>('body *')) {
        const r = el.getBoundingClientRect();
        if (r.width === 0 || r.right <= width + 0.5) continue;
        let inside = false;
        for (let p = el.parentElement; p && p !== document.body; p = p.parentElement)
          if (scrolls(p)) inside = true;
        if (inside) continue;
        const cls = typeof el.className === 'string' ? el.className.split(' ').slice(0, 3).join('.') : '';
        culprits.push(
          `${el.tagName.toLowerCase()}${cls ? `.${cls}` : ''} (right edge ${Math.round(r.right)}px)`,
        );
        if (culprits.length >= 5) break;
      }
    }
    return { width, scrollWidth, culprits };
  });
}

/** Nothing on the page scrolls sideways: `document.documentElement.scrollWidth <= window.innerWidth`. */
export async function expectNoSidewaysScroll(page: Page, name: string) {
  const o = await horizontalOverflow(page);
  expect(
    o.scrollWidth,
    `${name}: the page is ${o.scrollWidth}px wide in a ${o.width}px window; sticking out: ${o.culprits.join(', ') || 'nothing found outside scroll regions'}`,
  ).toBeLessThanOrEqual(o.width);
}

/** A full-page screenshot in test/portal/screenshots/, taken from the top (sticky bars). */
export async function screenshot(page: Page, name: string) {
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/**
 * The page as it is now at desktop and phone widths: no sideways scrolling at either, and a
 * screenshot of each (`<name>` and `<name>-390`). Leaves the window at desktop width.
 */
export async function checkBothWidths(page: Page, name: string, settle = 300) {
  for (const size of [DESKTOP, PHONE]) {
    await page.setViewportSize(size);
    await page.waitForTimeout(settle); // responsive charts and bars re-lay out
    // Charts re-measure on a ResizeObserver callback, which a loaded machine can deliver late:
    // wait up to 5 s for the page to fit before calling an overflow lasting.
    await expect
      .poll(async () => (await horizontalOverflow(page)).scrollWidth <= size.width, { timeout: 5_000 })
      .toBe(true)
      .catch(() => undefined);
    await expectNoSidewaysScroll(page, `${name} at ${size.width}px`);
    await screenshot(page, size === DESKTOP ? name : `${name}-${size.width}`);
  }
  await page.setViewportSize(DESKTOP);
}
