import type { DataSource } from 'typeorm';
import { consumerControl, setConsumerPaused } from '../consumers/store';

/**
 * The consumer workflow's local activities for its pause: Postgres (`kafka_consumer_controls`) holds it, because the
 * consumer activity and every range write read it there; the workflow writes each `pause` and `resume` signal.
 */
export function createConsumerControlActivities(ds: DataSource) {
  return {
    async consumerPaused(input: { consumer: string }): Promise<boolean> {
      return (await consumerControl(ds, input.consumer)).paused;
    },
    /** Returns once the range writes in flight have committed (see setConsumerPaused). */
    async setConsumerPaused(input: { consumer: string; paused: boolean }): Promise<void> {
      await setConsumerPaused(ds, input.consumer, input.paused, `${input.paused ? 'pause' : 'resume'} signal`);
    },
  };
}

export type ConsumerControlActivities = ReturnType<typeof createConsumerControlActivities>;
