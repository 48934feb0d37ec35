/**
 * One process that migrates a database the way every worker and API process does on start (the product's
 * `migrate`), for the concurrent-migration test. It connects first, says `ready`, and migrates only when told `go`
 * on stdin, so the test can start several at the same instant instead of hoping their start-ups overlap.
 *
 *   node --import tsx test/support/migrateProcess.ts <database-url>
 */
import { createDataSource, migrate } from '../../db/dataSource';

async function main(url: string): Promise<void> {
  const ds = createDataSource(url, 2);
  await ds.initialize();
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
  try {
    const applied = await migrate(ds);
    process.stdout.write(`${JSON.stringify({ applied })}\n`);
  } finally {
    await ds.destroy();
  }
}

main(process.argv[2] ?? '').then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
