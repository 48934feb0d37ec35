/**
 * Uploads a generated day (scripts/generate-day.ts) to S3, the `_SUCCESS` marker last as a real upstream would.
 *
 *   node --import tsx scripts/upload-day.ts --dir DIR --day 2024-05-01
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { env } from '../config/env';
import { createS3Client } from '../connections/s3';
import { dayPrefix } from '../domain/day';
import type { GeneratedFile } from './generate-day';

/** Puts every file of a generated day, `concurrency` at a time, with the marker after all the logs. */
export async function uploadGeneratedFiles(s3: S3Client, bucket: string, files: GeneratedFile[], concurrency = 8): Promise<void> {
  const put = async (f: GeneratedFile) => {
    // A stream body needs its length up front; the SDK cannot sign a body of unknown size.
    const body = f.body ? { Body: f.body } : { Body: createReadStream(f.path!), ContentLength: (await stat(f.path!)).size };
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: f.key, ...body }));
  };
  const rest = files.filter((f) => !f.key.endsWith('/_SUCCESS'));
  const queue = [...rest];
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let f = queue.shift(); f; f = queue.shift()) await put(f);
    }),
  );
  for (const marker of files.filter((f) => f.key.endsWith('/_SUCCESS'))) await put(marker);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { dir: { type: 'string' }, day: { type: 'string' } } });
  if (!values.dir || !values.day) throw new Error('usage: upload-day.ts --dir DIR --day YYYY-MM-DD');
  const prefix = dayPrefix(values.day);
  const names = await readdir(join(values.dir, prefix));
  const files: GeneratedFile[] = [];
  for (const name of names) {
    const path = join(values.dir, prefix, name);
    files.push({ key: prefix + name, role: 'log', gzip: name.endsWith('.gz'), lines: 0, bytes: (await stat(path)).size, path });
  }
  await uploadGeneratedFiles(createS3Client(env()), env().S3_BUCKET, files);
  console.log(`uploaded ${files.length} files to s3://${env().S3_BUCKET}/${prefix}`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
