import type { DataSource, QueryRunner } from 'typeorm';

const REDO_ATTEMPTS = 5;

/**
 * Runs `transaction` (one whole transaction) again at once after a deadlock or a serialization failure, up to 5
 * times: nothing of it committed, and concurrent writers of the same keys (parallel ingests, replays) can collide.
 */
export async function redoOnConflict<T>(transaction: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await transaction();
    } catch (err) {
      const code = (err as { code?: string }).code;
      if ((code === '40P01' || code === '40001') && attempt < REDO_ATTEMPTS) continue;
      throw err;
    }
  }
}

/** Runs `fn` in a transaction on a connection of its own, redone after a deadlock (`redoOnConflict`). */
export async function inTransaction<T>(ds: DataSource, fn: (qr: QueryRunner) => Promise<T>): Promise<T> {
  const qr = ds.createQueryRunner();
  await qr.connect();
  try {
    return await redoOnConflict(async () => {
      await qr.startTransaction();
      try {
        const out = await fn(qr);
        await qr.commitTransaction();
        return out;
      } catch (err) {
        await qr.rollbackTransaction().catch(() => undefined);
        throw err;
      }
    });
  } finally {
    await qr.release();
  }
}
