/**
 * What the Confluent wire format costs the decoder itself, in CPU time (less sensitive than the clock to the rest of
 * a shared machine): the same 5,000 records decoded raw and through ConfluentDecoders (writer schema cached, as after
 * a chunk's first look-up), a million messages each, alternating. No stack needed:
 *
 *   node --import tsx bench/confluentDecode.ts
 */
import { readFileSync } from 'node:fs';
import { Type, type Schema } from 'avsc';
import { encodeAvro } from '../consumers/avro';
import { ConfluentDecoders } from '../consumers/confluentDecoders';
import { createCuratedProgramDecoder, CURATED_PROGRAM_ACTIONS } from '../features/curatedPrograms/parse';
import { SCHEMA_VERSIONS } from '../scripts/produce-curated-events';

const CHUNK = 5000;
const ROUNDS = 10;
const PASSES = 20; // chunks per format per round

async function main(): Promise<void> {
  const text = readFileSync(SCHEMA_VERSIONS.v1, 'utf8');
  const schema = JSON.parse(text) as Schema;
  const type = Type.forSchema(schema);
  const records = Array.from({ length: CHUNK }, (_, n) => ({
    event_id: `evt-bench-${n.toString(36)}`,
    program_id: `program-${n % 5000}`,
    creator_id: `creator-${n % 800}`,
    action: CURATED_PROGRAM_ACTIONS[n % 3],
    occurred_at: Date.UTC(2024, 4, 1) + n * 997,
    title: n % 3 === 0 ? null : `Program ${n}`,
  }));
  const raw = records.map((r) => encodeAvro(type, r, { wireFormat: 'avro-raw' }));
  const framed = records.map((r) => encodeAvro(type, r, { wireFormat: 'confluent', schemaId: 1 }));
  const rawDecode = createCuratedProgramDecoder({ wireFormat: 'avro-raw', readerSchema: schema, writerSchema: schema });
  const confluent = new ConfluentDecoders({
    source: { url: 'in-process', schemaById: async (id) => ({ id, schemaType: 'AVRO', schema: text }) },
    build: (writer) => createCuratedProgramDecoder({ wireFormat: 'confluent', readerSchema: schema, writerSchema: writer }),
  });
  const cpuMs = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  let rawMs = 0;
  let confluentMs = 0;
  let decoded = 0;
  for (let round = 0; round < ROUNDS; round++) {
    let t = cpuMs();
    for (let p = 0; p < PASSES; p++) for (const v of raw) decoded += rawDecode(v).ok ? 1 : 0;
    rawMs += cpuMs() - t;
    t = cpuMs();
    for (let p = 0; p < PASSES; p++) {
      const decode = await confluent.decoderFor(framed);
      for (const v of framed) decoded += decode(v).ok ? 1 : 0;
    }
    confluentMs += cpuMs() - t;
  }
  const n = ROUNDS * PASSES * CHUNK;
  if (decoded !== 2 * n) throw new Error(`decoded ${decoded} of ${2 * n}`);
  const us = (ms: number) => ((ms * 1000) / n).toFixed(2);
  console.log(`${n} messages each: raw ${rawMs.toFixed(0)} ms CPU (${us(rawMs)} µs a message), Confluent via the cache ${confluentMs.toFixed(0)} ms (${us(confluentMs)} µs)`);
  console.log(JSON.stringify({ messages: n, raw_cpu_ms: Math.round(rawMs), confluent_cpu_ms: Math.round(confluentMs), confluent_vs_raw_cpu: Math.round((rawMs / confluentMs) * 1000) / 1000 }));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
