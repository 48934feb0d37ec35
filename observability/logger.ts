import pino from 'pino';

// Structured JSON on stdout, one line per event, so log shippers need no parsing rules.
export const logger = pino({
  level: process.env['LOG_LEVEL'] ?? 'info',
  base: { service: 'scheduled-job', pid: process.pid },
  timestamp: pino.stdTimeFunctions.isoTime,
});

export type Logger = typeof logger;
