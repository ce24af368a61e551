#!/usr/bin/env node
// Runs one engine process and makes sure it never outlives its parent: the parent holds this process's
// stdin open; when the parent exits for any reason (normal end, Ctrl-C, crash, even SIGKILL) the pipe closes
// and the engine is stopped. Plain CommonJS so it starts in milliseconds without a TypeScript loader.
'use strict';
const { spawn } = require('node:child_process');

const [command, ...args] = process.argv.slice(2);
const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'], detached: true });
let stopping = false;

function stop(code) {
  if (stopping) return;
  stopping = true;
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {}
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {}
    process.exit(code);
  }, 3000);
  child.once('exit', () => {
    clearTimeout(timer);
    process.exit(code);
  });
}

child.on('error', (error) => {
  process.stderr.write(`engine guard: cannot start ${command}: ${error.message}\n`);
  process.exit(127);
});
child.on('exit', (code, signal) => {
  if (!stopping) process.exit(code ?? (signal ? 1 : 0));
});
process.stdin.on('end', () => stop(0));
process.stdin.on('error', () => stop(0));
process.stdin.resume();
// Ctrl-C in a terminal reaches the whole foreground process group: ignore SIGINT so that the run, not the
// keyboard, decides when the engine stops (the run may still need it to finish its batches).
process.on('SIGINT', () => {});
for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, () => stop(0));
