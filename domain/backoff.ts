/** Exponential backoff: the wait before retry number `retry` (1 = the first), capped. Pure, so workflows use it too. */
export function backoffMs(policy: { initialMs: number; coefficient?: number; maxMs: number }, retry: number): number {
  return Math.min(policy.initialMs * (policy.coefficient ?? 2) ** Math.max(0, retry - 1), policy.maxMs);
}
