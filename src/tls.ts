import { existsSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { hostname } from 'node:os';
import selfsigned from 'selfsigned';
import type { Config } from './config.js';
import { ensurePrivateDirSync, PRIVATE_FILE_MODE } from './host/private-data-dir.js';
import { OpenemError } from './errors.js';

/** The configured certificate, or a self-signed one generated on first start into `<data>/tls/`. */
export async function loadOrCreateCertificate(config: Config): Promise<{ key: string; cert: string; generated: boolean }> {
  if (config.tlsCert || config.tlsKey) {
    if (!config.tlsCert || !config.tlsKey) throw new OpenemError('BAD_CONFIG', 'set both the TLS certificate and key, or neither');
    return { key: readFileSync(config.tlsKey, 'utf8'), cert: readFileSync(config.tlsCert, 'utf8'), generated: false };
  }
  const dir = join(config.dataDir, 'tls');
  const keyFile = join(dir, 'server.key');
  const certFile = join(dir, 'server.crt');
  if (existsSync(keyFile) && existsSync(certFile)) {
    return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8'), generated: false };
  }
  ensurePrivateDirSync(dir);
  const host = hostname();
  const pems = await selfsigned.generate([{ name: 'commonName', value: host }], {
    days: 3650,
    keySize: 2048,
    algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: host }, { type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }],
  } as never);
  // Key first, each written to a temp name and renamed, so a crash never leaves a cert without its key.
  writeFileSync(keyFile + '.tmp', pems.private, { mode: PRIVATE_FILE_MODE });
  renameSync(keyFile + '.tmp', keyFile);
  writeFileSync(certFile + '.tmp', pems.cert, { mode: PRIVATE_FILE_MODE });
  renameSync(certFile + '.tmp', certFile);
  return { key: pems.private, cert: pems.cert, generated: true };
}
