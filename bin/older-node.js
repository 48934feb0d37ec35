// Loaded by scheduled-job.js when the node that runs it is older than 22 (a shell whose PATH has the system Node 20
// first): hands the call to the project's Node 24 from the install cache, with the same node flags, environment and
// exit status. A child rather than an exec, because Node 20 has no execve.
'use strict';
const { spawn } = require('node:child_process');
const { existsSync, readFileSync } = require('node:fs');
const path = require('node:path');

const MIN_MAJOR = 22;

module.exports = function runOnProjectNode(entry) {
  const version = readFileSync(path.join(__dirname, '..', '.node-version'), 'utf8').trim().replace(/^v/, '');
  const cache = process.env.SCHEDULED_JOB_CACHE || '/var/cache/scheduled-job';
  const node = path.join(cache, 'node', `v${version}`, 'bin', 'node');
  if (!existsSync(node)) {
    console.error(
      `scheduled-job needs Node.js >= ${MIN_MAJOR}; this is ${process.version}. ` +
        `Run \`bash scripts/ensure-deps.sh\` in the clone to install Node ${version} into ${path.dirname(path.dirname(node))}, ` +
        `or put a Node.js >= ${MIN_MAJOR} first on PATH.`,
    );
    process.exit(1);
  }
  const child = spawn(node, [...process.execArgv, entry, ...process.argv.slice(2)], { stdio: 'inherit' });
  // A terminal's Ctrl-C reaches the child through the process group already (a second one would stop a backfill
  // at once), so this process only outlives it; a supervisor's SIGTERM names this pid alone, so it is passed on.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    }
    else process.exit(code ?? 1);
  });
};
