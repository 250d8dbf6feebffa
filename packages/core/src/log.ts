import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * JSON logs on stdout. `LOG_LEVEL` picks the level; children carry the operator name and the
 * object key (`logger.child({ key })`) so one object's history can be grepped out of the stream.
 */
export function createLogger(name: string, level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level, base: { operator: name }, timestamp: pino.stdTimeFunctions.isoTime });
}
