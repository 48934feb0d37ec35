#!/usr/bin/env node
// The CLI's entry. Start it as `scheduled-job` (bin/scheduled-job, which picks the Node and passes the worker's memory
// flags) or `node bin/scheduled-job.js` (no flags: a worker started so has V8's default heap).
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
