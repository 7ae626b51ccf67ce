import pLimit from 'p-limit';
import pRetry from 'p-retry';
import { SimulatedEngine } from '../../gpu-worker/src/engine/simulated-engine.js';

const e = new SimulatedEngine({ latencyMs: 0, failureRate: 0 });
const body = { model: 'm', messages: [{ role: 'user', content: 'Question number 12345' }] };
const N = 20000;
let t = performance.now();
for (let i = 0; i < N; i++) await e.send('/v1/chat/completions', body);
console.log('engine us/op', ((performance.now() - t) * 1000) / N);
t = performance.now();
for (let i = 0; i < N; i++) await pRetry(async () => 1, { retries: 4 });
console.log('pRetry us/op', ((performance.now() - t) * 1000) / N);
const limit = pLimit(64);
t = performance.now();
await Promise.all(Array.from({ length: N }, () => limit(async () => 1)));
console.log('pLimit us/op', ((performance.now() - t) * 1000) / N);
t = performance.now();
for (let i = 0; i < N; i++)
  JSON.stringify({
    id: 'batch_req_x',
    custom_id: 'c',
    response: {
      status_code: 200,
      request_id: 'r',
      body: { id: 'x', choices: [{ message: { content: 'hello world' } }], usage: { a: 1 } },
    },
    error: null,
  });
console.log('stringify us/op', ((performance.now() - t) * 1000) / N);
