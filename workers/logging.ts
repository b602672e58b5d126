// Structured logs (pino, to stderr) for imagent and for the Temporal SDK's own runtime.
import pino from 'pino';
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';

const LEVELS: readonly LogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];

/** GPU workers poll activities only, by design; the SDK warns about that at every start. */
const EXPECTED = new Set(['No workflows registered, not polling for workflow tasks']);

export const log = pino({ name: 'imagent', level: (process.env.IMAGENT_LOG_LEVEL ?? 'info').toLowerCase() }, pino.destination(2));

let installed = false;

/**
 * Routes the Temporal runtime's logs through pino at `level` and above. Call once, before the
 * first worker or connection is created; later calls are ignored.
 */
export function installRuntimeLogging(level: LogLevel): void {
  if (installed) return;
  installed = true;
  const threshold = LEVELS.indexOf(level);
  Runtime.install({
    logger: new DefaultLogger(level, (entry) => {
      if (LEVELS.indexOf(entry.level) < threshold || EXPECTED.has(entry.message)) return;
      const method = entry.level === 'TRACE' ? 'trace' : (entry.level.toLowerCase() as 'debug' | 'info' | 'warn' | 'error');
      log[method]({ ...entry.meta, sdk: 'temporal' }, entry.message);
    }),
  });
}
