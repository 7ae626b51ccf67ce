#!/usr/bin/env node
/** `npm run openbatch -- upload FILE`: see cli/args.ts for the options. */
import { main } from './main.js';

const interrupt = new AbortController();
// Ctrl-C stops the parts in flight and keeps the state file, so a rerun resumes; a second one exits.
process.once('SIGINT', () => {
  interrupt.abort();
  process.once('SIGINT', () => process.exit(130));
});
process.once('SIGTERM', () => interrupt.abort());
process.exitCode = await main(process.argv.slice(2), process.env, undefined, interrupt.signal);
