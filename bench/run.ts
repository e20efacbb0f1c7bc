import { setLogLevel } from '../core/log.js';
import { configFromEnv } from '../cli/config.js';
import { ensureBufferPool, flag, writeResults } from './common.js';
import { backfillBench } from './backfill.js';
import { pipelineBench } from './pipeline.js';
import { relayBench } from './relay.js';

/**
 * `npm run bench [-- --only pipeline|relay|backfill] [--orders N --rate R --concurrency C] [--light-rate R] [--shop-requests N --shop-rate R] [--events N --batch B] [--backfill-orders N]`
 * Each scenario runs in isolation (own database, topics, ClickHouse folder); the user's data is
 * untouched. Figures are printed and written to bench/results/.
 */
async function main(): Promise<void> {
  setLogLevel('warn');
  const argv = process.argv.slice(2);
  const onlyIndex = argv.indexOf('--only');
  const only = onlyIndex >= 0 ? argv[onlyIndex + 1] : undefined;
  const results: Record<string, unknown> = {};
  const entry = configFromEnv();
  const bufferPool = await ensureBufferPool(entry.stack.mysqlAdminUrl, 1024 * 2 ** 20);
  results.mysql = { innodbBufferPoolMiB: bufferPool.sizeMiB };
  try {
    if (!only || only === 'pipeline') {
      // Latency at a set rate (SPEC §9: at 1,000 orders/s), at a light rate, then the rate the
      // pipeline sustains when offered more than it can take.
      const concurrency = flag(argv, '--concurrency', 64);
      const latency = { orders: flag(argv, '--orders', 10_000), rate: flag(argv, '--rate', 1_000), concurrency };
      console.log(`pipeline: ${latency.orders} orders at ${latency.rate}/s (concurrency ${concurrency})`);
      results.pipelineAtRate = await pipelineBench(latency);
      console.log(JSON.stringify(results.pipelineAtRate, null, 2));
      // The same path well below saturation: what the pipeline itself adds, without queueing.
      const light = { orders: flag(argv, '--light-orders', 4_000), rate: flag(argv, '--light-rate', 200), concurrency };
      console.log(`pipeline: ${light.orders} orders at ${light.rate}/s (below saturation)`);
      results.pipelineLight = await pipelineBench(light);
      console.log(JSON.stringify(results.pipelineLight, null, 2));
      const saturation = { orders: flag(argv, '--saturation-orders', 15_000), rate: flag(argv, '--saturation-rate', 3_000), concurrency: 128 };
      console.log(`pipeline: ${saturation.orders} orders offered at ${saturation.rate}/s, to find the sustained rate`);
      results.pipelineSaturated = await pipelineBench(saturation);
      console.log(JSON.stringify(results.pipelineSaturated, null, 2));
      // The same generator with the shop mix of `shopstream load` (payments, shipments, cancels,
      // refunds, deletes beside the orders), offered at the SPEC's rate.
      const shop = { orders: flag(argv, '--shop-requests', 10_000), rate: flag(argv, '--shop-rate', 1_000), concurrency, mix: 'shop' as const };
      console.log(`pipeline: ${shop.orders} requests of the shop mix at ${shop.rate}/s (concurrency ${concurrency})`);
      results.pipelineShopMix = await pipelineBench(shop);
      console.log(JSON.stringify(results.pipelineShopMix, null, 2));
    }
    if (!only || only === 'relay') {
      results.relay = await relayBench({
        events: flag(argv, '--events', 1_000_000),
        idleSamples: flag(argv, '--idle-samples', 200),
        batchSize: flag(argv, '--batch', 2_000),
        concurrency: flag(argv, '--relay-concurrency', 2),
      });
      console.log(JSON.stringify(results.relay, null, 2));
    }
    if (!only || only === 'backfill') {
      results.backfill = await backfillBench({ orders: flag(argv, '--backfill-orders', 50_000) });
      console.log(JSON.stringify(results.backfill, null, 2));
    }
  } finally {
    await bufferPool.restore();
  }
  console.log(`written to ${writeResults(results)}`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
