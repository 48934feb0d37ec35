#!/usr/bin/env -S MALLOC_MMAP_THRESHOLD_=131072 MALLOC_TRIM_THRESHOLD_=131072 node --max-old-space-size=256 --disable-warning=TimeoutNegativeWarning
// The heap cap makes V8 collect before a long ingest lets garbage pile up to hundreds of MB; run
// `node --max-old-space-size=N bin/scheduled-job.js worker` for a bigger one. The two glibc settings stop malloc from
// keeping freed payload-sized blocks (signals and activity inputs of hundreds of KB, which the Temporal core and V8
// allocate outside the JS heap): a Kafka drain peaked about 70 MiB lower with them (BENCHMARKS.md).
// kafkajs (unmaintained; its issue 1751) schedules its request-queue check with a negative delay; Node clamps that
// to 1 ms as it always did, but since Node 23 it also prints a TimeoutNegativeWarning, so that one type is off.
// The CLI runs the TypeScript sources through tsx, so there is no build step between an edit and a run.
if (Number(process.versions.node.split('.')[0]) < 22) {
  require('./older-node.js')(__filename);
} else {
  require('tsx/cjs');
  require('../workers/cli.ts');
}
