export function BatchMetadata({ metadata }: { metadata: Record<string, string> | null }) {
  const entries = Object.entries(metadata ?? {});
  if (entries.length === 0) return <p className="text-[13px] text-muted">No metadata.</p>;
  return (
    <dl className="grid grid-cols-[minmax(6rem,auto)_1fr] gap-x-4 gap-y-2 text-[13px]">
      {entries.map(([k, v]) => (
        <div key={k} className="contents">
          <dt className="font-mono text-xs text-muted">{k}</dt>
          <dd className="break-words text-ink">{v}</dd>
        </div>
      ))}
    </dl>
  );
}
