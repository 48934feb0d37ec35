/**
 * The Confluent wire format with writer schemas from the schema registry against raw Avro, on the same messages in
 * the same run: the product's consumer path (consumer workflow, descriptors, ingest workflows) drains each topic in
 * turn, A B B A twice, so a drift in the shared machine's load weighs on both alike; the worker's CPU seconds are
 * reported beside the wall clock, and the CPU the rest of the machine took meanwhile. Each pair of topics holds the same
 * records (one seed, prefixes of one length), framed raw or with the registry's id for v1; the ids are cached after
 * the first chunk, so what is compared is the per-message cost of the format. A third drain, v1/v2/v3 mixed (Avro
 * resolution for two of three messages), is shown beside them.
 */
import { KafkaTools } from '../connections/kafkaTools';
import { curatedProgramConsumer } from '../features/curatedPrograms/consumer';
import { produceCuratedEvents, type ProduceOptions, type ProduceResult } from '../scripts/produce-curated-events';
import type { TestConsumerSpec } from '../test/support/consumers';
import { eventually, uniqueTag } from '../test/support/stack';
import { consumerWorkflowId } from '../workflows/consumerIds';
import { consumerStatusQuery, pauseSignal, resumeSignal } from '../workflows/consumerSignals';
import { ConsumerRegistry } from '../consumers/registry';
import type { BenchContext, BenchRow } from './context';
import { measureCpu, type CpuSeconds } from './cpuTime';
import { appliedToTheEnd } from './kafkaPaths';

const PARTITIONS = 4;

interface Drain {
  spec: TestConsumerSpec;
  format: 'avro-raw' | 'confluent' | 'mixed';
  label: string;
  produce: Partial<ProduceOptions>;
}

/** Rounds of A B B A: on this shared machine one drain can take half again as long as its twin for no reason of its own. */
const ROUNDS = 2;

export interface RegistryFigures {
  messages: number;
  /** Seconds and worker CPU seconds of each format, summed over its drains (ROUNDS * 2 each). */
  registry_raw_s: number;
  registry_confluent_s: number;
  registry_raw_worker_cpu_s: number;
  registry_confluent_worker_cpu_s: number;
  registry_mixed_versions_s: number;
  /** Raw seconds over Confluent seconds: 1 = the same throughput, 0.9 = Confluent 10 % slower. */
  registry_confluent_vs_raw: number;
  /** The same with the worker's CPU seconds: what decoding costs the process that does it, whatever else runs. */
  registry_confluent_vs_raw_worker_cpu: number;
  /** CPU seconds the rest of the machine took during the timed drains: other users' stacks, and this stack's Kafka. */
  registry_others_cpu_s: number;
}

/** The bench worker's consumers for this part (test/support/consumers.ts reads TEST_CONSUMERS), on topics of their own. */
export function registryBenchConsumers(): { drains: Drain[]; env: Record<string, string> } {
  const tag = uniqueTag('reg').replace(/-/g, '_');
  // The shipped consumer's transaction size, as the Kafka part runs it.
  const batchSize = new ConsumerRegistry([curatedProgramConsumer]).get(curatedProgramConsumer.name).batchSize;
  // Ids of one length, so every topic's event ids have one length too.
  const drain = (id: string, format: Drain['format']): Drain => ({
    spec: { name: `bench_${tag}_${id}`, topic: `bench.${tag}.${id}`, wireFormat: format === 'avro-raw' ? 'avro-raw' : 'confluent', batchSize, ingestContinueAsNewAfter: 500 },
    format,
    label: format === 'avro-raw' ? 'avro-raw' : format === 'confluent' ? 'Confluent + registry, v1' : 'Confluent + registry, v1/v2/v3 mixed',
    produce: format === 'avro-raw' ? { wireFormat: 'avro-raw' } : { wireFormat: 'confluent', versions: format === 'confluent' ? ['v1'] : ['v1', 'v2', 'v3'] },
  });
  const drains: Drain[] = [];
  for (let r = 0; r < ROUNDS; r++) drains.push(drain(`raw${r}a`, 'avro-raw'), drain(`cnf${r}a`, 'confluent'), drain(`cnf${r}b`, 'confluent'), drain(`raw${r}b`, 'avro-raw'));
  drains.push(drain('mixed', 'mixed'));
  return { drains, env: { TEST_CONSUMERS: JSON.stringify(drains.map((d) => d.spec)) } };
}

export async function benchRegistry(ctx: BenchContext, drains: Drain[], messages: number): Promise<{ figures: RegistryFigures; rows: BenchRow[] }> {
  const { rt } = ctx;
  const kafka = new KafkaTools(rt.env, 'bench-registry');
  const handle = (d: Drain) => rt.temporal.workflow.getHandle(consumerWorkflowId(d.spec.name));
  try {
    // Every consumer waits, paused, while its topic is written.
    const produced: ProduceResult[] = [];
    for (const d of drains) {
      await eventually(`${d.spec.name} to run`, async () => (await handle(d).query(consumerStatusQuery).catch(() => undefined))?.state === 'running', 60_000);
      await handle(d).signal(pauseSignal);
      await eventually(`${d.spec.name} to pause`, async () => (await handle(d).query(consumerStatusQuery)).state === 'paused', 30_000);
      // One seed and prefixes of one length: the same records on every topic, only the framing differs.
      const prefix = d.spec.name.replace(/^bench_/, '');
      produced.push(await produceCuratedEvents({ kafka, topic: d.spec.topic, count: messages, partitions: PARTITIONS, createTopic: true, seed: 28, prefix, ...d.produce }));
    }
    const took: CpuSeconds[] = [];
    for (const [i, d] of drains.entries()) {
      const cpu = measureCpu(ctx.worker.pid);
      await handle(d).signal(resumeSignal);
      await appliedToTheEnd(ctx, d.spec.name, produced[i]!.perPartition);
      took.push(cpu.stop());
      const [n] = (await rt.ds.query(
        `SELECT (SELECT count(*) FROM curated_program_events WHERE topic = $1)::int AS rows,
                (SELECT count(*) FROM kafka_dead_letters WHERE consumer = $2 AND topic = $1)::int AS dead`,
        [d.spec.topic, d.spec.name],
      )) as { rows: number; dead: number }[];
      if (n!.rows !== produced[i]!.distinctValid || n!.dead !== produced[i]!.garbage) {
        throw new Error(`${d.label} wrote ${JSON.stringify(n)}, not ${produced[i]!.distinctValid} rows and ${produced[i]!.garbage} dead letters`);
      }
    }
    const sum = (format: Drain['format'], k: keyof CpuSeconds) => drains.reduce((acc, d, i) => acc + (d.format === format ? took[i]![k] : 0), 0);
    const figures: RegistryFigures = {
      messages,
      registry_raw_s: sum('avro-raw', 'wall'),
      registry_confluent_s: sum('confluent', 'wall'),
      registry_raw_worker_cpu_s: sum('avro-raw', 'worker'),
      registry_confluent_worker_cpu_s: sum('confluent', 'worker'),
      registry_mixed_versions_s: sum('mixed', 'wall'),
      registry_confluent_vs_raw: sum('avro-raw', 'wall') / sum('confluent', 'wall'),
      registry_confluent_vs_raw_worker_cpu: sum('avro-raw', 'worker') / sum('confluent', 'worker'),
      registry_others_cpu_s: took.reduce((acc, t) => acc + t.others, 0),
    };
    const rows = drains.map((d, i) => ({
      path: `${messages} msgs: consumer workflow -> Postgres, ${d.label} (${d.spec.name.split('_').pop()})`,
      seconds: took[i]!.wall.toFixed(2),
      throughput: `${Math.round(messages / took[i]!.wall)} msgs/s`,
      'worker CPU s': took[i]!.worker.toFixed(2),
      'others CPU s': took[i]!.others.toFixed(1),
    }));
    return { figures, rows };
  } finally {
    for (const d of drains) {
      await handle(d).terminate('bench finished').catch(() => undefined);
      for await (const wf of rt.temporal.workflow.list({ query: `WorkflowId STARTS_WITH "ingest/${d.spec.name}/" AND ExecutionStatus = "Running"` })) {
        await rt.temporal.workflow.getHandle(wf.workflowId).terminate('bench finished').catch(() => undefined);
      }
      await ctx.pg.query('DELETE FROM curated_program_events WHERE topic = $1', [d.spec.topic]);
      await ctx.pg.query('DELETE FROM kafka_dead_letters WHERE consumer = $1', [d.spec.name]);
      await ctx.pg.query('DELETE FROM kafka_applied_offsets WHERE consumer = $1', [d.spec.name]);
    }
    await kafka.deleteGroups(drains.map((d) => `${d.spec.topic}.group`)).catch(() => undefined);
    await kafka.deleteTopics(drains.map((d) => d.spec.topic)).catch(() => undefined);
    await kafka.close();
  }
}
