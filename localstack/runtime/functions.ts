import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type FunctionDeclaration, type FunctionName, functions } from '../../core/app/declaration.js';

// biome-ignore lint/suspicious/noExplicitAny: handlers of every trigger type share this loader
export type AnyHandler = (event: any, context: any) => Promise<any>;

export interface LoadedFunction {
  name: FunctionName;
  decl: FunctionDeclaration;
  handler: AnyHandler;
}

/** Imports every declared function's handler module, as Lambda would from its bundle. */
export async function loadFunctions(root: string): Promise<Map<FunctionName, LoadedFunction>> {
  const loaded = new Map<FunctionName, LoadedFunction>();
  for (const [name, decl] of Object.entries(functions) as [FunctionName, FunctionDeclaration][]) {
    const mod = (await import(pathToFileURL(resolve(root, decl.entry)).href)) as { handler: AnyHandler };
    loaded.set(name, { name, decl, handler: mod.handler });
  }
  return loaded;
}
