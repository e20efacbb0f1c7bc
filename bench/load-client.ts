import { Agent, request } from 'node:http';

/**
 * The bench's load generator, run as its own process (real clients are not inside the server):
 * POSTs the order bodies it receives at `rate`/s with at most `concurrency` in flight, then
 * reports each request's status and latency to its parent.
 */
interface Job {
  url: string;
  rate: number;
  concurrency: number;
  bodies: string[];
}

function postJson(agent: Agent, url: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

process.once('message', async (job: Job) => {
  const agent = new Agent({ keepAlive: true, maxSockets: job.concurrency });
  const latencies: number[] = [];
  let failures = 0;
  const intervalMs = 1000 / job.rate;
  const started = performance.now();
  const pending = new Set<Promise<void>>();
  for (let i = 0; i < job.bodies.length; i++) {
    const wait = started + i * intervalMs - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    while (pending.size >= job.concurrency) await Promise.race(pending);
    const t0 = performance.now();
    const call: Promise<void> = postJson(agent, job.url, job.bodies[i]!)
      .then((status) => {
        if (status === 201) latencies.push(performance.now() - t0);
        else failures++;
      })
      .catch(() => void failures++)
      .finally(() => pending.delete(call));
    pending.add(call);
  }
  await Promise.all(pending);
  agent.destroy();
  process.send!({ latencies, failures, seconds: (performance.now() - started) / 1000 }, () => process.exit(0));
});
