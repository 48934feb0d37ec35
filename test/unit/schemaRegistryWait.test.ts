import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { registryWait } from '../../activities/schemaRegistryWait';
import { SchemaRegistryUnavailableError } from '../../connections/schemaRegistry';
import type { PartitionWait } from '../../workflows/consumerTypes';

/** Records the signals the wait sends to the consumer's workflow (a pure test: no Temporal). */
function signals() {
  const sent: { workflowId: string; name: string; wait: PartitionWait }[] = [];
  const client = {
    workflow: {
      getHandle: (workflowId: string) => ({
        signal: async (def: { name: string }, wait: PartitionWait) => {
          sent.push({ workflowId, name: def.name, wait });
        },
      }),
    },
  } as unknown as Client;
  return { client, sent };
}

const down = () => new SchemaRegistryUnavailableError('schema registry at http://r.test unavailable: ECONNREFUSED');

describe('the ingest side waits for the schema registry', () => {
  test('it asks again until the registry answers, heartbeating the reason, and tells the consumer when it starts and stops waiting', async () => {
    const env = new MockActivityEnvironment();
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    const { client, sent } = signals();
    let tries = 0;
    const out = await env.run(async () => {
      const w = registryWait({ ctx: Context.current(), consumer: 'c1', topic: 't', partition: 3, temporal: client, details: () => ({ applied: '41' }) });
      return w.until(async () => {
        if (++tries < 3) throw down();
        return 'decoder';
      });
    });
    assert.equal(out, 'decoder');
    assert.equal(tries, 3);
    assert.ok(beats.some((b) => JSON.stringify(b) === JSON.stringify({ applied: '41', waiting: down().message })), JSON.stringify(beats));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(
      sent.map((s) => [s.workflowId, s.name, s.wait.topic, s.wait.partition, s.wait.reason]),
      [
        ['consumer/c1', 'ingestWaiting', 't', 3, down().message],
        ['consumer/c1', 'ingestWaiting', 't', 3, null],
      ],
    );
  });

  test('any other error is not waited for; a registry that answers at once sends nothing', async () => {
    const { client, sent } = signals();
    await assert.rejects(
      new MockActivityEnvironment().run(() =>
        registryWait({ ctx: Context.current(), consumer: 'c1', topic: 't', partition: 0, temporal: client, details: () => ({}) }).until(async () => {
          throw new Error('a bug');
        }),
      ),
      /a bug/,
    );
    assert.equal(await new MockActivityEnvironment().run(() => registryWait({ ctx: Context.current(), consumer: 'c1', topic: 't', partition: 0, temporal: client, details: () => ({}) }).until(async () => 7)), 7);
    assert.deepEqual(sent, []);
  });

  test('a previous attempt that died waiting is taken back by the first answer; a cancel ends the wait', async () => {
    const { client, sent } = signals();
    const heir = new MockActivityEnvironment({ heartbeatDetails: { applied: '9', waiting: down().message } });
    await heir.run(() => registryWait({ ctx: Context.current(), consumer: 'c2', topic: 't', partition: 1, temporal: client, details: () => ({}) }).until(async () => 1));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(sent.map((s) => s.wait.reason), [null]);

    const env = new MockActivityEnvironment();
    const waiting = env.run(() =>
      registryWait({ ctx: Context.current(), consumer: 'c2', topic: 't', partition: 1, details: () => ({}) }).until(async () => {
        throw down();
      }),
    );
    setTimeout(() => env.cancel(), 200);
    await assert.rejects(waiting, (err: Error) => err.name === 'CancelledFailure');
  });
});
