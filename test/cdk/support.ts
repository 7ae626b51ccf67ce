import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { App, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { type EnvironmentConfig, type EnvironmentName, environments } from '../../cdk/config.js';
import { addOpenbatch, type OpenbatchAppOptions, type OpenbatchStacks } from '../../cdk/lib/openbatch-app.js';

export const root = resolve(import.meta.dirname, '../..');

/** The context `cdk synth` runs with (cdk.json), without bundling: assets are placeholders. */
export function cdkContext(): Record<string, unknown> {
  const context = JSON.parse(readFileSync(resolve(root, 'cdk.json'), 'utf8')).context as Record<
    string,
    unknown
  >;
  return { ...context, 'aws:cdk:bundling-stacks': [] };
}

export interface SynthOptions extends Partial<Omit<OpenbatchAppOptions, 'config'>> {
  readonly env?: EnvironmentName;
  readonly config?: EnvironmentConfig;
}

export interface Synthesized {
  readonly app: App;
  readonly stacks: OpenbatchStacks;
  template(stack: Stack): Template;
}

/**
 * Builds the app as `cdk synth -c env=<env>` does, minus bundling, cdk-nag (test/cdk/nag.test.ts
 * runs it) and the CloudFormation schema validation the CLI runs (CI's `npm run synth`).
 */
export function synth(options: SynthOptions = {}): Synthesized {
  // An environment as configured is synthesized once per test file.
  const onlyEnv = Object.keys(options).every((k) => k === 'env' || k === 'target');
  const key = `${options.env ?? 'dev'}:${options.target ?? 'aws'}`;
  const hit = onlyEnv ? cache.get(key) : undefined;
  if (hit) return hit;
  const made = build(options);
  if (onlyEnv) cache.set(key, made);
  return made;
}

const cache = new Map<string, Synthesized>();

function build(options: SynthOptions): Synthesized {
  const { env = 'dev', config, ...rest } = options;
  const app = new App({ context: cdkContext(), builtinCloudFormationValidation: false });
  const stacks = addOpenbatch(app, {
    config: config ?? environments[env],
    root,
    nag: false,
    portalDist: null,
    ...rest,
  });
  const templates = new Map<Stack, Template>();
  return {
    app,
    stacks,
    template(stack) {
      let t = templates.get(stack);
      if (!t) {
        t = Template.fromStack(stack);
        templates.set(stack, t);
      }
      return t;
    },
  };
}

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown>; [k: string]: unknown }>;

/** The resources of a type, by logical id. */
export function resourcesOf(template: Template, type: string): Resources {
  return template.findResources(type) as Resources;
}

/** The one resource of a type whose properties match `predicate`. */
export function onlyResource(
  template: Template,
  type: string,
  predicate: (props: Record<string, unknown>) => boolean = () => true,
): { id: string; props: Record<string, unknown> } {
  const found = Object.entries(resourcesOf(template, type)).filter(([, r]) => predicate(r.Properties ?? {}));
  if (found.length !== 1) throw new Error(`Expected one ${type}, found ${found.length}`);
  const [id, r] = found[0] as [string, Resources[string]];
  return { id, props: r.Properties ?? {} };
}

/** Deep-copies a configuration with changes, for tests of bad or alternative settings. */
export function configWith(
  base: EnvironmentConfig,
  change: (draft: { -readonly [K in keyof EnvironmentConfig]: EnvironmentConfig[K] }) => void,
): EnvironmentConfig {
  const draft = structuredClone(base) as { -readonly [K in keyof EnvironmentConfig]: EnvironmentConfig[K] };
  change(draft);
  return draft;
}

/** Everything in a template that names a logical id or attribute, flattened to strings. */
export function refsIn(value: unknown): string[] {
  const out: string[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === 'Ref' && typeof x === 'string') out.push(x);
        else if (k === 'Fn::GetAtt' && Array.isArray(x)) out.push(String(x[0]));
        else walk(x);
      }
    }
  };
  walk(value);
  return out;
}

/** A pool group's pools as the model catalog hands their bounds to core/policy, written out by hand. */
export const catalogBounds = (pools: EnvironmentConfig['pools']) => ({
  spot: { min_tasks: pools.spot.minWorkers, max_tasks: pools.spot.maxWorkers },
  dedicated: { min_tasks: pools.dedicated.minWorkers, max_tasks: pools.dedicated.maxWorkers },
});
