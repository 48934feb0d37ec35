import type { DataSource, QueryRunner } from 'typeorm';

/**
 * Runs `fn` in a transaction on its own connection, redoing it at once after a deadlock or serialization failure:
 * nothing of it committed, and concurrent writers of the same keys (parallel ingests, replays) can collide.
 */
export async function inTransaction<T>(ds: DataSource, fn: (qr: QueryRunner) => Promise<T>): Promise<T> {
  const qr = ds.createQueryRunner();
  await qr.connect();
  try {
    for (let attempt = 1; ; attempt++) {
      await qr.startTransaction();
      try {
        const out = await fn(qr);
        await qr.commitTransaction();
        return out;
      } catch (err) {
        await qr.rollbackTransaction().catch(() => undefined);
        const code = (err as { code?: string }).code;
        if ((code === '40P01' || code === '40001') && attempt < 5) continue;
        throw err;
      }
    }
  } finally {
    await qr.release();
  }
}
