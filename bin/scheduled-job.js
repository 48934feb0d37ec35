#!/usr/bin/env -S MALLOC_MMAP_THRESHOLD_=131072 MALLOC_TRIM_THRESHOLD_=131072 MALLOC_ARENA_MAX=2 node --max-old-space-size=256 --max-semi-space-size=16
// The heap cap makes V8 collect before a long ingest lets garbage pile up to hundreds of MB; run
// `node --max-old-space-size=N bin/scheduled-job.js worker` for a bigger one. The two glibc settings stop malloc from
// keeping freed payload-sized blocks (signals and activity inputs of hundreds of KB, which the Temporal core and V8
// allocate outside the JS heap): a Kafka drain peaked about 70 MiB lower with them (BENCHMARKS.md).
// MALLOC_ARENA_MAX=2 keeps the worker's ~15 threads (V8's, libuv's, the Temporal core's) from each growing a malloc
// arena of their own. The young-generation cap is Node 20's default for this heap: Node 24 sizes it from the heap cap,
// up to 64 MiB a semi-space (448 instead of 304 MiB of heap limit), and a 64 MiB ingest then peaked at 329 instead of
// under 300 MiB.
// It runs the build in dist/ (`npm run build`; the set-up and test/run.sh run it), since compiling the sources
// through tsx on every call took about two seconds.
const path = require('node:path');
if (Number(process.versions.node.split('.')[0]) < 22) {
  require('./older-node.js')(__filename);
} else {
  const cli = path.join(__dirname, '..', 'dist', 'workers', 'cli.js');
  try {
    require.resolve(cli);
  } catch {
    console.error(`scheduled-job: no build at ${cli}; run \`npm run build\` (or \`bash scripts/ensure-deps.sh\`) in the clone`);
    process.exit(1);
  }
  // V8 keeps the compiled code of every module it loads on disk (os.tmpdir()/node-compile-cache, or
  // NODE_COMPILE_CACHE), so the next call skips most of the compiling; NODE_DISABLE_COMPILE_CACHE=1 turns it off.
  // Not for the worker: it starts once and runs for days, and with the cache its idle RSS was about 10 MiB higher
  // (BENCHMARKS.md, Worker memory in a Kafka drain).
  if (process.argv[2] !== 'worker') require('node:module').enableCompileCache();
  require(cli);
}
