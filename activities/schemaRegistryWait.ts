import type { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { SchemaRegistryUnavailableError } from '../connections/schemaRegistry';
import { backoffMs } from '../domain/backoff';
import { logger } from '../observability/logger';
import { consumerWorkflowId } from '../workflows/consumerIds';
import { ingestWaitingSignal } from '../workflows/consumerSignals';
import type { PartitionWait } from '../workflows/consumerTypes';

export interface RegistryWaitOptions {
  ctx: Context;
  consumer: string;
  topic: string;
  partition: number;
  /** Tells the consumer's workflow, so its status names what the partition waits on; none in tests of the activity alone. */
  temporal?: Client;
  /** The activity's heartbeat details; the wait adds its reason to them. */
  details: () => Record<string, unknown>;
}

/** Between two questions to a registry that did not answer. */
const WAIT = { initialMs: 500, maxMs: 5_000 };
/** Well inside the shortest heartbeat timeout a consumer may declare, whatever a request to the registry takes. */
const HEARTBEAT_MS = 1_000;

/**
 * The ingest side's patience with the schema registry. A registry that cannot answer is not bad input: `until` keeps
 * asking (with backoff, heartbeating, cancellable) instead of failing the attempt or dead-lettering anything, and
 * tells the consumer's workflow once when its partition starts waiting and once when it stops.
 */
export function registryWait(o: RegistryWaitOptions) {
  // A previous attempt that died waiting (kill -9, a heartbeat timeout) left its word in the consumer's status; its
  // last heartbeat says so, and the first chunk this attempt decodes takes the word back.
  let told = Boolean((o.ctx.info.heartbeatDetails as { waiting?: unknown } | undefined)?.waiting);
  const tell = (reason: string | null) => {
    if (!o.temporal) return;
    const w: PartitionWait = { topic: o.topic, partition: o.partition, reason, at: new Date().toISOString() };
    // Best effort: the wait itself does not depend on Temporal hearing of it.
    o.temporal.workflow
      .getHandle(consumerWorkflowId(o.consumer))
      .signal(ingestWaitingSignal, w)
      .catch((err: unknown) => logger.warn({ consumer: o.consumer, err: (err as Error)?.message ?? err }, 'could not tell the consumer workflow about the wait'));
  };
  return {
    async until<T>(attempt: () => Promise<T>): Promise<T> {
      let waited = 0;
      let beat: NodeJS.Timeout | undefined;
      try {
        for (;;) {
          try {
            const out = await attempt();
            if (waited > 0) logger.info({ consumer: o.consumer, topic: o.topic, partition: o.partition, tries: waited }, 'the schema registry answers again; the partition goes on');
            if (told) tell(null);
            told = false;
            return out;
          } catch (err) {
            if (!(err instanceof SchemaRegistryUnavailableError)) throw err;
            if (waited === 0) {
              logger.warn({ consumer: o.consumer, topic: o.topic, partition: o.partition, err: err.message }, 'the partition waits for the schema registry');
              tell(err.message);
              told = true;
              beat = setInterval(() => o.ctx.heartbeat({ ...o.details(), waiting: err.message }), HEARTBEAT_MS);
            }
            waited++;
            o.ctx.heartbeat({ ...o.details(), waiting: err.message });
            // Rejects when the activity is cancelled, which ends the wait.
            await o.ctx.sleep(backoffMs(WAIT, waited));
          }
        }
      } finally {
        clearInterval(beat);
      }
    },
  };
}
