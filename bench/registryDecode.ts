/**
 * The Confluent wire format with writer schemas from the schema registry against raw Avro, on the same messages in
 * the same run: the product's consumer path (consumer workflow, descriptors, ingest workflows) drains each topic in
 * turn, A B B A, so a drift in the shared machine's load weighs on both alike. Each pair of topics holds the same
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
import { consumerStatusQuery, pauseSignal, resumeSignal } from '../workflows/consumers';
import { ConsumerRegistry } from '../consumers/registry';
import { seconds, type BenchContext, type BenchRow } from './context';
import { appliedToTheEnd } from './kafkaPaths';

const PARTITIONS = 4;

interface Drain {
  spec: TestConsumerSpec;
  label: string;
  produce: Partial<ProduceOptions>;
}

export interface RegistryFigures {
  messages: number;
  /** Seconds of each drain, in the order they ran. */
  registry_raw_a_s: number;
  registry_confluent_a_s: number;
  registry_confluent_b_s: number;
  registry_raw_b_s: number;
  registry_mixed_versions_s: number;
  /** Raw seconds over Confluent seconds, both drains of each summed: 1 = the same, 0.9 = Confluent 10 % slower. */
  registry_confluent_vs_raw: number;
}

/** The bench worker's consumers for this part (test/support/consumers.ts reads TEST_CONSUMERS), on topics of their own. */
export function registryBenchConsumers(): { drains: Drain[]; env: Record<string, string> } {
  const tag = uniqueTag('reg').replace(/-/g, '_');
  // The shipped consumer's transaction size, as the Kafka part runs it.
  const batchSize = new ConsumerRegistry([curatedProgramConsumer]).get(curatedProgramConsumer.name).batchSize;
  // Ids of one length, so every topic's event ids have one length too.
  const spec = (id: string, wireFormat: 'avro-raw' | 'confluent'): TestConsumerSpec => ({
    name: `bench_${tag}_${id}`,
    topic: `bench.${tag}.${id}`,
    wireFormat,
    batchSize,
    ingestContinueAsNewAfter: 500,
  });
  const v1: Partial<ProduceOptions> = { wireFormat: 'confluent', versions: ['v1'] };
  const drains: Drain[] = [
    { spec: spec('raw_a', 'avro-raw'), label: 'avro-raw (A)', produce: { wireFormat: 'avro-raw' } },
    { spec: spec('cnf_a', 'confluent'), label: 'Confluent + registry, v1 (A)', produce: v1 },
    { spec: spec('cnf_b', 'confluent'), label: 'Confluent + registry, v1 (B)', produce: v1 },
    { spec: spec('raw_b', 'avro-raw'), label: 'avro-raw (B)', produce: { wireFormat: 'avro-raw' } },
    { spec: spec('mixed', 'confluent'), label: 'Confluent + registry, v1/v2/v3 mixed', produce: { wireFormat: 'confluent', versions: ['v1', 'v2', 'v3'] } },
  ];
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
    const took: number[] = [];
    for (const [i, d] of drains.entries()) {
      const t = process.hrtime.bigint();
      await handle(d).signal(resumeSignal);
      await appliedToTheEnd(ctx, d.spec.name, produced[i]!.perPartition);
      took.push(seconds(t));
      const [n] = (await rt.ds.query(
        `SELECT (SELECT count(*) FROM curated_program_events WHERE topic = $1)::int AS rows,
                (SELECT count(*) FROM kafka_dead_letters WHERE consumer = $2 AND topic = $1)::int AS dead`,
        [d.spec.topic, d.spec.name],
      )) as { rows: number; dead: number }[];
      if (n!.rows !== produced[i]!.distinctValid || n!.dead !== produced[i]!.garbage) {
        throw new Error(`${d.label} wrote ${JSON.stringify(n)}, not ${produced[i]!.distinctValid} rows and ${produced[i]!.garbage} dead letters`);
      }
    }
    const [rawA, cnfA, cnfB, rawB, mixed] = took as [number, number, number, number, number];
    const figures: RegistryFigures = {
      messages,
      registry_raw_a_s: rawA,
      registry_confluent_a_s: cnfA,
      registry_confluent_b_s: cnfB,
      registry_raw_b_s: rawB,
      registry_mixed_versions_s: mixed,
      registry_confluent_vs_raw: (rawA + rawB) / (cnfA + cnfB),
    };
    const rows = drains.map((d, i) => ({
      path: `${messages} msgs: consumer workflow -> Postgres, ${d.label}`,
      seconds: took[i]!.toFixed(2),
      throughput: `${Math.round(messages / took[i]!)} msgs/s`,
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
