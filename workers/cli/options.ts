import { InvalidArgumentError } from 'commander';
import type { JobArgs } from '../../workflows/types';

// Option parsers the commands share; a value they refuse is a malformed option (exit 1, with commander's usage).

export function jsonArgs(value: string): JobArgs {
  try {
    const parsed: unknown = JSON.parse(value);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
    return parsed as JobArgs;
  } catch {
    throw new InvalidArgumentError(`--args must be a JSON object, e.g. '{"day":"2024-05-01"}'`);
  }
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

export function wholeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number');
  return n;
}
