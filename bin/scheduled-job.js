#!/usr/bin/env node
// The CLI runs the TypeScript sources through tsx, so there is no build step between an edit and a run.
require('tsx/cjs');
require('../workers/cli.ts');
