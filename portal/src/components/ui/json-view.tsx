import { Fragment, type ReactNode } from 'react';

const TOKEN =
  /("(?:\\.|[^"\\])*")(\s*:)?|\b(true|false|null)\b|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|([{}[\],])/g;

/** Syntax colours for one JSON text (keys, strings, numbers, literals); invalid JSON stays plain. */
export function highlightJson(text: string): ReactNode[] {
  const out: ReactNode[] = [];
  let last = 0;
  let i = 0;
  for (const m of text.matchAll(TOKEN)) {
    const at = m.index ?? 0;
    if (at > last) out.push(text.slice(last, at));
    const [whole, str, colon, literal, num, punct] = m;
    const key = i++;
    if (str !== undefined) {
      out.push(
        colon ? (
          <Fragment key={key}>
            <span className="text-accent">{str}</span>
            {colon}
          </Fragment>
        ) : (
          <span key={key} className="text-ok">
            {str}
          </span>
        ),
      );
    } else if (literal !== undefined) {
      out.push(
        <span key={key} className="text-dedicated">
          {literal}
        </span>,
      );
    } else if (num !== undefined) {
      out.push(
        <span key={key} className="text-warn">
          {num}
        </span>,
      );
    } else if (punct !== undefined) {
      out.push(
        <span key={key} className="text-muted">
          {punct}
        </span>,
      );
    } else {
      out.push(whole);
    }
    last = at + whole.length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

/** Pretty-prints a JSON line when it parses; otherwise shows it as it is. */
export function JsonView(props: { text: string; pretty?: boolean }) {
  let shown = props.text;
  if (props.pretty) {
    try {
      shown = JSON.stringify(JSON.parse(props.text), null, 2);
    } catch {
      // keep the raw text
    }
  }
  return (
    <pre className="overflow-x-auto font-mono text-xs leading-5 whitespace-pre-wrap break-all text-ink">
      {highlightJson(shown)}
    </pre>
  );
}
