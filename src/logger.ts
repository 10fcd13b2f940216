import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

/** JSON logs; credentials and session tokens are never written. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      redact: {
        paths: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-restsvcsessionid"]', 'res.headers["x-restsvcsessionid"]', 'res.headers["set-cookie"]', '*.password', 'password'],
        censor: '[redacted]',
      },
    },
    destination,
  );
}

/**
 * For a person at a terminal (issue #16): one readable line per record (time, level, message, then the request or
 * the fields), written synchronously so it interleaves with the server's own lines. JSON stays the default elsewhere.
 */
export function terminalDestination(output: NodeJS.WritableStream = process.stdout, colorize = true): pino.DestinationStream {
  return pretty({
    destination: output,
    sync: true,
    colorize,
    translateTime: 'SYS:HH:MM:ss',
    ignore: 'pid,hostname,reqId,req,res,responseTime',
    singleLine: true,
    messageFormat: (log, messageKey) => {
      const req = log.req as { method?: string; url?: string } | undefined;
      const res = log.res as { statusCode?: number } | undefined;
      const msg = String(log[messageKey] ?? '');
      if (req?.method) return `${msg} ${req.method} ${req.url}`;
      if (res?.statusCode) return `${msg} ${res.statusCode}${typeof log.responseTime === 'number' ? ` in ${log.responseTime.toFixed(0)} ms` : ''}`;
      return msg;
    },
  });
}
