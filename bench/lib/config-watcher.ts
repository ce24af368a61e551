/**
 * One "worker" of the config benchmark: watches the local config store and prints a JSON line
 * `{version, appliedAtWallMs}` for the version it starts on and for every version it applies. Exits when its
 * stdin closes. Arguments: PATH POLL_INTERVAL_MS watch|poll
 */
import { FileConfigSource } from '../../localstack/config/file-config-source.js';

const [path, pollMs, mode] = process.argv.slice(2);
const source = await FileConfigSource.open({
  path: path!,
  pollIntervalMs: Number(pollMs),
  watch: mode === 'watch',
});
const report = (s: { version: string; appliedAtWallMs: number }) =>
  process.stdout.write(`${JSON.stringify({ version: s.version, appliedAtWallMs: s.appliedAtWallMs })}\n`);
report(source.current());
source.subscribe(report);
// The source keeps no process alive by itself (its timers are unref'd): stdin does, until the parent closes it.
process.stdin.resume();
process.stdin.on('end', () => {
  void source.close().then(() => process.exit(0));
});
