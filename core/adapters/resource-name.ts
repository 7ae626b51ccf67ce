/**
 * A resource's physical name, or a function that resolves it on first use. Deps hand adapters
 * the latter, so touching a resource the principal never declared fails with a WiringError
 * naming both, rather than calling AWS with an empty name.
 */
export type ResourceName = string | (() => string);

export const nameOf = (n: ResourceName): (() => string) => (typeof n === 'string' ? () => n : n);
