#!/usr/bin/env -S MALLOC_MMAP_THRESHOLD_=131072 MALLOC_TRIM_THRESHOLD_=131072 node --max-old-space-size=256
// The heap cap makes V8 collect before a long ingest lets garbage pile up to hundreds of MB; run
// `node --max-old-space-size=N bin/scheduled-job.js worker` for a bigger one. The two glibc settings stop malloc from
// keeping freed payload-sized blocks (signals and activity inputs of hundreds of KB, which the Temporal core and V8
// allocate outside the JS heap): a Kafka drain peaked about 70 MiB lower with them (BENCHMARKS.md).
// The CLI runs the TypeScript sources through tsx, so there is no build step between an edit and a run.
require('tsx/cjs');
require('../workers/cli.ts');
