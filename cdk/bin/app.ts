#!/usr/bin/env node
/**
 * The CDK app: `npx cdk synth -c env=dev|staging|prod` (see cdk/README.md).
 *   -c env=all             every environment in one cloud assembly (CI's `npm run synth`)
 *   -c target=localstack   only the stacks LocalStack's free edition runs (see localstack/README.md)
 *   -c nag=false           skip the cdk-nag checks (they run by default and fail the synth)
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { ensurePortalBuilt } from '../../portal/scripts/ensure-built.js';
import { configFor, environmentNames } from '../config.js';
import { addOpenbatch, type DeployTarget } from '../lib/openbatch-app.js';
import { ensurePortalDist } from '../lib/stacks/portal-stack.js';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const app = new App();
const envName = String(app.node.tryGetContext('env') ?? 'dev');
const target = String(app.node.tryGetContext('target') ?? 'aws') as DeployTarget;
if (target !== 'aws' && target !== 'localstack')
  throw new Error(`Unknown target '${target}': aws or localstack`);
const nag = String(app.node.tryGetContext('nag') ?? 'true') !== 'false';
// The portal stack deploys portal/dist: build it first (only when stale), so that a clean
// checkout deploys the portal and not only config.json. LocalStack has no portal stack.
if (target === 'aws') ensurePortalDist(root, ensurePortalBuilt);

for (const name of envName === 'all' ? environmentNames : [envName]) {
  addOpenbatch(app, { config: configFor(name), root, target, nag });
}
app.synth();
