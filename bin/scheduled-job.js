#!/usr/bin/env -S node --max-old-space-size=256
// The heap cap makes V8 collect before a long ingest lets garbage pile up to hundreds of MB; run
// `node --max-old-space-size=N bin/scheduled-job.js worker` for a bigger one.
// The CLI runs the TypeScript sources through tsx, so there is no build step between an edit and a run.
require('tsx/cjs');
require('../workers/cli.ts');
