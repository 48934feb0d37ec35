import { daysBetween, parseDay } from '../domain/day';
import type { JobArgs, PartitionKind } from '../workflows/types';
import type { JobDefinition } from './definition';
import { InvalidRequestError } from './requestErrors';

export type { PartitionKind };

/**
 * Which argument partitions a job, declared in its definition (`partition: { arg: 'day', kind: 'day' }`): the search
 * attribute of its runs, its schedule's ticks, its backfills and its days view all come from it, so the framework
 * never reads an argument by name.
 */
export interface PartitionDeclaration<Arg extends string = string> {
  arg: Arg;
  kind: PartitionKind;
}

/** What the framework needs to know of a partition kind: its values, their order, and the one a moment falls in. */
export interface PartitionKindRules {
  /** Returns `value` when it is one of the kind's values; throws with what is wrong otherwise. */
  parse(value: string): string;
  /** Every value from `from` to `to`, both included, in order; throws when `from` comes after `to`. */
  between(from: string, to: string): string[];
  /** The value `offset` partitions away from the one `moment` falls in, in `timeZone` (-1: the one before). */
  at(moment: Date, timeZone: string, offset: number): string;
  /** The widest range a days view or a backfill accepts, in partitions, and how to say it. */
  maxRange: { partitions: number; said: string };
  /** An example value, for messages and for checking that a job's argument schema accepts the kind's values. */
  example: string;
}

const MS_PER_DAY = 86_400_000;

const DAY: PartitionKindRules = {
  parse: parseDay,
  between: daysBetween,
  at(moment, timeZone, offset) {
    // en-CA writes dates as YYYY-MM-DD; the calendar day of the moment where the schedule's clock hangs.
    const local = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(moment);
    return new Date(Date.parse(`${local}T00:00:00Z`) + offset * MS_PER_DAY).toISOString().slice(0, 10);
  },
  maxRange: { partitions: 3653, said: 'ten years' },
  example: '2024-05-01',
};

export const PARTITION_KINDS: Record<PartitionKind, PartitionKindRules> = { day: DAY };

/**
 * Every partition from `from` to `to` of a job that declares one, for its days view and its backfills; refuses a
 * job without a partition, a value that is not of its kind, a reversed range and one wider than the kind allows.
 */
export function partitionRange(def: JobDefinition, from: string, to: string): { partition: PartitionDeclaration; values: string[] } {
  if (!def.partition) {
    throw new InvalidRequestError(`job ${def.name} declares no partition: days and backfills need one (\`partition\` in its definition)`);
  }
  const rules = PARTITION_KINDS[def.partition.kind];
  for (const [name, v] of [['from', from], ['to', to]] as const) {
    try {
      rules.parse(v);
    } catch (err) {
      throw new InvalidRequestError(`${name}: ${(err as Error).message}`);
    }
  }
  if (from > to) throw new InvalidRequestError(`from (${from}) is after to (${to}): give the earlier ${def.partition.kind} first`);
  const values = rules.between(from, to);
  if (values.length > rules.maxRange.partitions) {
    throw new InvalidRequestError(
      `${from} to ${to} is ${values.length} ${def.partition.kind}s: at most ${rules.maxRange.said} (${rules.maxRange.partitions}) at once`,
    );
  }
  return { partition: def.partition, values };
}

/** The partition value of resolved arguments, or null for a job without a partition. */
export function partitionKeyOf(partition: PartitionDeclaration | undefined, args: JobArgs): string | null {
  if (!partition) return null;
  const v = args[partition.arg];
  return typeof v === 'string' ? v : null;
}
