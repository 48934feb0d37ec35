import type { S3Client } from '@aws-sdk/client-s3';
import { generateDay, type GeneratedDay, type GenerateDayOptions } from '../../scripts/generate-day';
import { uploadGeneratedFiles } from '../../scripts/upload-day';

/** A day no earlier test run used, so rows in the long-lived local database never collide across runs. */
export function freshDay(): string {
  const year = 2100 + Math.floor(Math.random() * 7000);
  const month = 1 + Math.floor(Math.random() * 12);
  const day = 1 + Math.floor(Math.random() * 28);
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

export async function generateAndUpload(
  s3: S3Client,
  bucket: string,
  opts: Omit<GenerateDayOptions, 'out'>,
): Promise<GeneratedDay> {
  const generated = await generateDay(opts);
  await uploadGeneratedFiles(s3, bucket, generated.files);
  return generated;
}
