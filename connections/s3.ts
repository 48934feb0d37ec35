import { S3Client } from '@aws-sdk/client-s3';
import type { Env } from '../config/env';

/** S3 or an S3-compatible server: path-style addressing, and checksums only where the API requires them. */
export function createS3Client(e: Env): S3Client {
  return new S3Client({
    endpoint: e.S3_ENDPOINT,
    region: e.S3_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: e.AWS_ACCESS_KEY_ID, secretAccessKey: e.AWS_SECRET_ACCESS_KEY },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}
