// Container health check of the gpu-worker image (Docker HEALTHCHECK and the ECS task's).
// The worker is healthy when it can do work: its engine lists models on the OpenAI-compatible
// /v1/models route. Without ENGINE_URL the worker uses its built-in simulated engine.
const engineUrl = process.env.ENGINE_URL;
if (!engineUrl) process.exit(0);

const base = engineUrl.replace(/\/+$/, '').replace(/\/v1$/, '');
const apiKey = process.env.ENGINE_API_KEY;
try {
  const res = await fetch(`${base}/v1/models`, {
    headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
    signal: AbortSignal.timeout(4000),
  });
  process.exit(res.ok ? 0 : 1);
} catch {
  process.exit(1);
}
