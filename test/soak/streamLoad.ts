import { ProduceAcks, Producer, type MessageToProduce } from '@platformatic/kafka';
import { curatedMessages, type CuratedMessage, type CuratedMessageOptions } from '../../scripts/produce-curated-events';
import { kafkaOptions, messageKey } from './kafkaLog';

/**
 * Kafka production at a steady rate, as an upstream service sends it: valid events, repeats of earlier ones and
 * garbage (scripts/produce-curated-events.ts, which knows what each message is by construction). A send that fails
 * (the broker is away) is kept and sent again until it is acknowledged, so the log may hold some messages twice; the
 * ledger files every message it ever tried under its bytes, and the checker reads the log back to see what is there.
 */
export interface LedgerEntry {
  role: 'valid' | 'garbage';
  eventId?: string;
}

export class StreamLoad {
  readonly ledger = new Map<string, LedgerEntry>();
  /** One valid event of each acknowledged send, and when: the stream probe (when did its row appear). */
  readonly probes: { ackedAt: number; eventId: string; storedAt?: number }[] = [];
  generated = 0;
  acked = 0;
  failedSends = 0;
  private producer: Producer | undefined;
  private readonly messages: Generator<CuratedMessage>;
  private outbox: MessageToProduce[] = [];
  private outboxValid: string | undefined;
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly brokers: string,
    private readonly topic: string,
    partitions: number,
    prefix: string,
    seed: number,
    private readonly perSecond: number,
    framing: Pick<CuratedMessageOptions, 'wireFormat' | 'schemaIds'>,
  ) {
    this.messages = curatedMessages({ count: Infinity, partitions, prefix, seed, repeatShare: 0.1, garbageShare: 0.05, ...framing });
  }

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  /** Stops making messages and sends what is left; resolves when the last send was acknowledged. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await this.producer?.close().catch(() => undefined);
  }

  private take(n: number): void {
    for (let i = 0; i < n; i++) {
      const m = this.messages.next().value as CuratedMessage;
      this.generated++;
      const key = messageKey(m.value);
      if (!this.ledger.has(key)) this.ledger.set(key, m.role === 'garbage' ? { role: 'garbage' } : { role: 'valid', eventId: m.eventId! });
      if (m.role === 'valid') this.outboxValid ??= m.eventId;
      // A null value is a tombstone, as a compacting upstream sends them.
      this.outbox.push({ topic: this.topic, partition: m.partition, value: m.value as Buffer });
    }
  }

  private async run(): Promise<void> {
    const tickMs = 500;
    let carry = 0;
    while (this.running || this.outbox.length > 0) {
      const t0 = Date.now();
      if (this.running) {
        carry += (this.perSecond * tickMs) / 1000;
        this.take(Math.floor(carry));
        carry -= Math.floor(carry);
      }
      if (this.outbox.length > 0) {
        try {
          this.producer ??= new Producer({ ...kafkaOptions(this.brokers, 'soak-producer'), autocreateTopics: false });
          await this.producer.send({ messages: this.outbox, acks: ProduceAcks.ALL });
          this.acked += this.outbox.length;
          if (this.outboxValid) this.probes.push({ ackedAt: Date.now(), eventId: this.outboxValid });
          this.outbox = [];
          this.outboxValid = undefined;
        } catch {
          // Kept for the next tick; a new client, since the old one may hold connections to a broker that went away.
          this.failedSends++;
          const old = this.producer;
          this.producer = undefined;
          void old?.close().catch(() => undefined);
          await new Promise((r) => setTimeout(r, 1_000));
        }
      }
      await new Promise((r) => setTimeout(r, Math.max(0, tickMs - (Date.now() - t0))));
    }
  }
}
