import { msToNumber } from '@temporalio/common/lib/time';
import { z } from 'zod';
import { durationField, LOWER_SNAKE_NAME, LOWER_SNAKE_NAME_RULE } from '../config/definitionFields';
import type { ActivityPolicy, JobArgs, JobRetry, ResolvedJob } from '../workflows/types';
import { unstorableText } from '../domain/text';
import type { JobDefinition } from './definition';
import { alertKindsOf, alertsProblem, webhookOf } from './alerts';
import { concurrencyProblem, concurrencyQueueOf } from './concurrency';
import { PARTITION_KINDS, partitionKeyOf, type PartitionKind } from './partition';
import { scheduleProblem } from './schedule';

export class JobDefinitionError extends Error {
  override name = 'JobDefinitionError';
}

/** Arguments that do not fit a job's schema; `issues` name each field and what is wrong with it. */
export class InvalidArgumentsError extends Error {
  override name = 'InvalidArguments';
  constructor(
    readonly job: string,
    readonly issues: string[],
  ) {
    super(`invalid args for ${job}: ${issues.join('; ')}`);
  }
}

export class UnknownJobError extends Error {
  override name = 'UnknownJob';
  constructor(readonly job: string) {
    super(`unknown job ${job}`);
  }
}

/** The first string (key or value) in `v` that the run log's jsonb could not store, as `path: problem`. */
function findUnstorableText(v: unknown, path: string, depth = 0): string | undefined {
  if (typeof v === 'string') {
    const problem = unstorableText(v);
    return problem ? `${path}: ${problem}` : undefined;
  }
  if (typeof v !== 'object' || v === null || depth > 64) return undefined;
  for (const [k, item] of Object.entries(v)) {
    const keyProblem = unstorableText(k);
    if (keyProblem) return `${path}: a key ${keyProblem}`;
    const found = findUnstorableText(item, `${path}.${k}`, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/** The validated set of jobs a process knows; built once at start-up so a bad definition stops the process. */
export class JobRegistry {
  private readonly byName = new Map<string, JobDefinition>();

  /** `handlers`: the names the worker's workflow bundle registers handlers under; a definition must use one. */
  constructor(defs: JobDefinition[], handlers: readonly string[]) {
    for (const def of defs) {
      validateDefinition(def, handlers);
      if (this.byName.has(def.name)) throw new JobDefinitionError(`job ${def.name}: name: defined twice`);
      this.byName.set(def.name, def);
    }
  }

  list(): JobDefinition[] {
    return [...this.byName.values()];
  }

  get(name: string): JobDefinition {
    const def = this.byName.get(name);
    if (!def) throw new UnknownJobError(name);
    return def;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /**
   * The worker's start-up check of what the definitions take from its environment: each webhook's URL (from
   * `urlEnv`) and secret. Only the workers send alerts, so only they need them (the API and the CLI do not check).
   */
  requireAlertEnvironment(environment: NodeJS.ProcessEnv): void {
    for (const def of this.byName.values()) {
      const hook = def.alerts && webhookOf(def.alerts, environment);
      if (typeof hook === 'string') throw new JobDefinitionError(`job ${def.name}: ${hook}`);
    }
  }

  /** Default arguments merged under the trigger's, then checked against the job's schema. */
  resolveArgs(name: string, given: unknown): JobArgs {
    const def = this.get(name);
    if (given !== undefined && (typeof given !== 'object' || given === null || Array.isArray(given))) {
      throw new InvalidArgumentsError(name, ['args: must be a JSON object']);
    }
    const merged = { ...(def.defaultArgs ?? {}), ...((given as JobArgs | undefined) ?? {}) };
    // A typo (`dya` for `day`) would otherwise be dropped without a word and the run start with the default.
    const shape = def.args instanceof z.ZodObject ? (def.args.shape as Record<string, unknown>) : undefined;
    const unknown = shape ? Object.keys(merged).filter((k) => !Object.hasOwn(shape, k)) : [];
    if (unknown.length > 0) {
      const known = Object.keys(shape!).join(', ') || 'none';
      throw new InvalidArgumentsError(name, unknown.slice(0, 5).map((k) => `args.${JSON.stringify(k).slice(1, -1).slice(0, 100)}: unknown argument (this job takes: ${known})`));
    }
    const unstorable = findUnstorableText(merged, 'args');
    if (unstorable) throw new InvalidArgumentsError(name, [unstorable]);
    const parsed = def.args.safeParse(merged);
    if (!parsed.success) {
      throw new InvalidArgumentsError(
        name,
        parsed.error.issues.map((i) => `args.${i.path.join('.') || '(root)'}: ${i.message}`),
      );
    }
    return parsed.data;
  }
}

const DEFAULT_ACTIVITY_POLICY: ActivityPolicy = {
  maximumAttempts: 10,
  initialIntervalMs: 1_000,
  backoffCoefficient: 2,
  maximumIntervalMs: 60_000,
  nonRetryable: [],
  startToCloseTimeoutMs: 10 * 60_000,
  heartbeatTimeoutMs: 30_000,
};

export function activityPolicyOf(def: JobDefinition): ActivityPolicy {
  const r = def.activityRetry ?? {};
  const t = def.timeouts ?? {};
  const d = DEFAULT_ACTIVITY_POLICY;
  return {
    maximumAttempts: r.maximumAttempts ?? d.maximumAttempts,
    initialIntervalMs: r.initialInterval !== undefined ? msToNumber(r.initialInterval) : d.initialIntervalMs,
    backoffCoefficient: r.backoffCoefficient ?? d.backoffCoefficient,
    maximumIntervalMs: r.maximumInterval !== undefined ? msToNumber(r.maximumInterval) : d.maximumIntervalMs,
    nonRetryable: r.nonRetryable ?? d.nonRetryable,
    startToCloseTimeoutMs:
      t.activityStartToClose !== undefined ? msToNumber(t.activityStartToClose) : d.startToCloseTimeoutMs,
    heartbeatTimeoutMs: t.activityHeartbeat !== undefined ? msToNumber(t.activityHeartbeat) : d.heartbeatTimeoutMs,
  };
}

export function jobRetryOf(def: JobDefinition): JobRetry {
  const r = def.retry;
  return {
    retries: r.retries,
    initialIntervalMs: r.initialInterval !== undefined ? msToNumber(r.initialInterval) : 5_000,
    backoffCoefficient: r.backoffCoefficient ?? 2,
    maximumIntervalMs: r.maximumInterval !== undefined ? msToNumber(r.maximumInterval) : 10 * 60_000,
    nonRetryable: r.nonRetryable ?? [],
  };
}

/** Everything one attempt needs from its definition, with the arguments resolved. */
export function resolveJob(registry: JobRegistry, name: string, args: unknown): ResolvedJob {
  const def = registry.get(name);
  const resolved = registry.resolveArgs(name, args);
  const key = partitionKeyOf(def.partition, resolved);
  return {
    args: resolved,
    ...(def.partition && key !== null ? { partition: { kind: def.partition.kind, key } } : {}),
    handler: def.handler,
    activity: activityPolicyOf(def),
    retry: jobRetryOf(def),
    attemptTimeoutMs: def.timeouts?.attempt !== undefined ? msToNumber(def.timeouts.attempt) : null,
    ...(def.concurrency ? { concurrencyQueue: concurrencyQueueOf(name, def.concurrency, resolved) } : {}),
    ...(def.alerts && alertKindsOf(def.alerts, def.schedule !== undefined).includes('failed') ? { alertOnFailure: true } : {}),
  };
}

const DefinitionShape = z.object({
  name: z.string().regex(LOWER_SNAKE_NAME, LOWER_SNAKE_NAME_RULE),
  description: z.string().min(1, 'must say what the job does'),
  handler: z.string(),
  args: z.custom<z.ZodType>((v) => v instanceof z.ZodType, 'must be a zod schema'),
  defaultArgs: z.record(z.string(), z.unknown()).optional(),
  retry: z.object({
    retries: z.number().int().min(0).max(100),
    initialInterval: durationField,
    backoffCoefficient: z.number().min(1).optional(),
    maximumInterval: durationField,
    nonRetryable: z.array(z.string().min(1)).optional(),
  }),
  activityRetry: z
    .object({
      maximumAttempts: z.number().int().min(0).optional(),
      initialInterval: durationField,
      backoffCoefficient: z.number().min(1).optional(),
      maximumInterval: durationField,
      nonRetryable: z.array(z.string().min(1)).optional(),
    })
    .optional(),
  timeouts: z
    .object({ attempt: durationField, activityStartToClose: durationField, activityHeartbeat: durationField })
    .optional(),
  lockKey: z.array(z.string().min(1)).optional(),
  partition: z.strictObject({ arg: z.string().min(1), kind: z.enum(Object.keys(PARTITION_KINDS) as [PartitionKind]) }).optional(),
  schedule: z.record(z.string(), z.unknown()).optional(),
  keyMetrics: z.strictObject({ rows: z.string().min(1).optional(), rejects: z.string().min(1).optional() }).optional(),
  concurrency: z.record(z.string(), z.unknown()).optional(),
  alerts: z.record(z.string(), z.unknown()).optional(),
});

/** The partition must be a required text argument in the lock key whose schema takes the kind's values. */
function partitionDeclarationProblem(def: JobDefinition, shape: Record<string, unknown> | undefined): string | undefined {
  const { arg, kind } = def.partition!;
  const field = shape?.[arg];
  if (shape && !field) return `partition.arg: ${arg} is not an argument of the job`;
  if (!(def.lockKey ?? []).includes(arg)) return `partition.arg: ${arg} must be in lockKey, so each partition has a lock of its own`;
  if (field instanceof z.ZodType) {
    const example = PARTITION_KINDS[kind].example;
    if (!field.safeParse(example).success) return `partition: the schema of args.${arg} refuses ${JSON.stringify(example)}, a ${kind}`;
    if (field.safeParse(undefined).success) return `partition: args.${arg} must be required`;
  }
  return undefined;
}

function validateDefinition(def: JobDefinition, handlers: readonly string[]): void {
  const label = `job ${typeof def?.name === 'string' ? def.name : JSON.stringify(def?.name)}`;
  const parsed = DefinitionShape.safeParse(def);
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    throw new JobDefinitionError(`${label}: ${first.path.join('.') || '(definition)'}: ${first.message}`);
  }
  if (!handlers.includes(def.handler)) {
    throw new JobDefinitionError(`${label}: handler: must be one of the workflow handlers: ${handlers.join(', ')}`);
  }
  const shape = def.args instanceof z.ZodObject ? (def.args.shape as Record<string, unknown>) : undefined;
  for (const key of def.lockKey ?? []) {
    if (shape && !(key in shape)) throw new JobDefinitionError(`${label}: lockKey: ${key} is not an argument of the job`);
  }
  const partitionProblem = def.partition && partitionDeclarationProblem(def, shape);
  if (partitionProblem) throw new JobDefinitionError(`${label}: ${partitionProblem}`);
  const scheduleIssue = def.schedule && scheduleProblem(def.schedule, def.partition !== undefined);
  if (scheduleIssue) throw new JobDefinitionError(`${label}: ${scheduleIssue}`);
  const concurrencyIssue = def.concurrency && concurrencyProblem(def.concurrency, shape && Object.keys(shape));
  if (concurrencyIssue) throw new JobDefinitionError(`${label}: ${concurrencyIssue}`);
  const alertsIssue = def.alerts && alertsProblem(def.alerts, { partitionKind: def.partition?.kind, scheduled: def.schedule !== undefined });
  if (alertsIssue) throw new JobDefinitionError(`${label}: ${alertsIssue}`);
  if (def.defaultArgs) {
    const check = def.args.safeParse(def.defaultArgs);
    const wrong = check.success ? [] : check.error.issues.filter((i) => String(i.path[0]) in def.defaultArgs!);
    if (wrong.length > 0) {
      throw new JobDefinitionError(`${label}: defaultArgs.${wrong[0]!.path.join('.')}: ${wrong[0]!.message}`);
    }
  }
}
