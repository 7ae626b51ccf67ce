// @vitest-environment happy-dom
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { act, cleanup, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ThemeToggle } from '../../portal/src/components/ui/theme-toggle.js';
import {
  nextThemeChoice,
  readThemeChoice,
  resolveTheme,
  THEME_STORAGE_KEY,
  ThemeProvider,
} from '../../portal/src/lib/theme.js';

/** A device colour scheme the test can flip, as matchMedia('(prefers-color-scheme: dark)') reports it. */
function fakeDevice(dark: boolean) {
  const listeners = new Set<() => void>();
  const mq = {
    get matches() {
      return dark;
    },
    media: '(prefers-color-scheme: dark)',
    addEventListener: (_: string, l: () => void) => listeners.add(l),
    removeEventListener: (_: string, l: () => void) => listeners.delete(l),
  };
  vi.stubGlobal(
    'matchMedia',
    vi.fn(() => mq),
  );
  return {
    set(next: boolean) {
      dark = next;
      for (const l of listeners) l();
    },
  };
}

const root = document.documentElement;

beforeEach(() => {
  localStorage.clear();
  delete root.dataset.theme;
  root.style.colorScheme = '';
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('theme rules', () => {
  it('reads the stored choice, and anything else as "system"', () => {
    expect(readThemeChoice(localStorage)).toBe('system');
    localStorage.setItem(THEME_STORAGE_KEY, 'dark');
    expect(readThemeChoice(localStorage)).toBe('dark');
    localStorage.setItem(THEME_STORAGE_KEY, 'sepia');
    expect(readThemeChoice(localStorage)).toBe('system');
    const blocked = {
      getItem: () => {
        throw new Error('SecurityError');
      },
    };
    expect(readThemeChoice(blocked)).toBe('system');
    expect(readThemeChoice(undefined)).toBe('system');
  });

  it("follows the device's scheme unless the user chose one", () => {
    expect(resolveTheme('system', true)).toBe('dark');
    expect(resolveTheme('system', false)).toBe('light');
    expect(resolveTheme('light', true)).toBe('light');
    expect(resolveTheme('dark', false)).toBe('dark');
  });

  it('steps system → light → dark → system', () => {
    expect(nextThemeChoice('system')).toBe('light');
    expect(nextThemeChoice('light')).toBe('dark');
    expect(nextThemeChoice('dark')).toBe('system');
  });
});

describe('ThemeToggle', () => {
  it("starts on the device's scheme, then switches, remembers and forgets the choice", async () => {
    fakeDevice(true);
    const user = userEvent.setup();
    render(
      <ThemeProvider>
        <ThemeToggle />
      </ThemeProvider>,
    );
    expect(root.dataset.theme).toBe('dark');
    expect(root.style.colorScheme).toBe('dark');
    const toggle = screen.getByRole('button', { name: /^Colour scheme: System \(dark\)/ });
    await user.click(toggle);
    expect(root.dataset.theme).toBe('light');
    expect(localStorage.getItem(THEME_STORAGE_KEY)).toBe('light');
    expect(toggle.getAttribute('aria-label')).toBe('Colour scheme: Light. Switch to dark');
    await user.click(toggle);
    expect(root.dataset.theme).toBe('dark');
    expect(localStorage.getItem(THEME_STORAGE_KEY)).toBe('dark');
    await user.click(toggle);
    expect(localStorage.getItem(THEME_STORAGE_KEY)).toBeNull();
    expect(root.dataset.theme).toBe('dark');
  });

  it('keeps a remembered choice over the device, and follows the device while on "system"', () => {
    const device = fakeDevice(false);
    localStorage.setItem(THEME_STORAGE_KEY, 'dark');
    const view = render(
      <ThemeProvider>
        <ThemeToggle />
      </ThemeProvider>,
    );
    expect(root.dataset.theme).toBe('dark');
    act(() => device.set(true));
    act(() => device.set(false));
    expect(root.dataset.theme).toBe('dark');
    view.unmount();
    localStorage.removeItem(THEME_STORAGE_KEY);
    render(
      <ThemeProvider>
        <ThemeToggle />
      </ThemeProvider>,
    );
    expect(root.dataset.theme).toBe('light');
    act(() => device.set(true));
    expect(root.dataset.theme).toBe('dark');
  });
});

describe("index.html's first-paint script", () => {
  const html = readFileSync(resolve(import.meta.dirname, '../../portal/index.html'), 'utf8');
  const script = /<script>([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';

  it('applies the same rule, from the same storage key, before the app starts', () => {
    expect(script).toContain(`localStorage.getItem('${THEME_STORAGE_KEY}')`);
    fakeDevice(true);
    new Function(script)();
    expect(root.dataset.theme).toBe('dark');
    localStorage.setItem(THEME_STORAGE_KEY, 'light');
    new Function(script)();
    expect(root.dataset.theme).toBe('light');
    expect(root.style.colorScheme).toBe('light');
    fakeDevice(false);
    localStorage.setItem(THEME_STORAGE_KEY, 'dark');
    new Function(script)();
    expect(root.dataset.theme).toBe('dark');
  });
});
