import type { EnvironmentConfig } from '../config.js';

/** The model name the engine serves, which is also the API's model allowlist. */
export const servedModelName = (config: EnvironmentConfig): string =>
  config.engine.servedModelName ?? config.engine.model;

/**
 * Settings every function and worker receives (names from core/config.ts): the log level,
 * the file retention that the S3 lifecycle also enforces, the model allowlist, and the
 * environment's limit and SLA overrides.
 */
export function sharedEnvironment(config: EnvironmentConfig): Record<string, string> {
  return {
    LOG_LEVEL: config.logLevel,
    FILE_RETENTION_DAYS: String(config.fileRetentionDays),
    MODELS: servedModelName(config),
    ...config.settings,
  };
}

/** Browser origins the API answers CORS for: the configured ones, plus the custom domain. */
export function allowedOrigins(config: EnvironmentConfig): string[] {
  return [
    ...new Set([...config.allowedOrigins, ...(config.domain ? [`https://${config.domain.name}`] : [])]),
  ];
}
