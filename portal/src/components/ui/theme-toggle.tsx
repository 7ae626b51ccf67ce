import { type LucideIcon, Monitor, Moon, Sun } from 'lucide-react';
import { nextThemeChoice, type ThemeChoice, useTheme } from '../../lib/theme';

const look: Record<ThemeChoice, { icon: LucideIcon; label: string }> = {
  system: { icon: Monitor, label: 'System' },
  light: { icon: Sun, label: 'Light' },
  dark: { icon: Moon, label: 'Dark' },
};

/** One button that steps through the colour schemes: system (the device's), light, dark. */
export function ThemeToggle() {
  const { choice, theme, setChoice } = useTheme();
  const next = nextThemeChoice(choice);
  const Icon = look[choice].icon;
  const current = choice === 'system' ? `System (${theme})` : look[choice].label;
  return (
    <button
      type="button"
      onClick={() => setChoice(next)}
      aria-label={`Colour scheme: ${current}. Switch to ${look[next].label.toLowerCase()}`}
      title={`Colour scheme: ${current}`}
      data-theme-choice={choice}
      className="rounded-md p-1.5 hover:bg-surface-2 hover:text-ink"
    >
      <Icon aria-hidden className="size-4" />
    </button>
  );
}
