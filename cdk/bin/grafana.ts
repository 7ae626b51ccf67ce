#!/usr/bin/env node
/** Writes the Grafana dashboard (`npm run grafana`); test/cdk/grafana.test.ts checks it is current. */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { grafanaDashboard } from '../lib/monitoring/grafana.js';

export const grafanaDashboardPath = resolve(
  fileURLToPath(new URL('.', import.meta.url)),
  '../dashboards/grafana-openbatch.json',
);

export const renderGrafanaDashboard = (): string => `${JSON.stringify(grafanaDashboard(), null, 2)}\n`;

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeFileSync(grafanaDashboardPath, renderGrafanaDashboard());
  // In the repository's format, so that `biome check` passes on the committed file.
  execFileSync('npx', ['biome', 'format', '--write', grafanaDashboardPath], { stdio: 'inherit' });
  console.log(`wrote ${grafanaDashboardPath}`);
}
