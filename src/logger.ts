import pino, { type Logger } from 'pino';

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
