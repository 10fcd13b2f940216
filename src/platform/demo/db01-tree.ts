import { prose } from './demo-text.js';
import type { GuestTreeWriter } from './guest-tree-writer.js';
import { writeLinuxBaseTree } from './linux-base-tree.js';
import { SeededRandom } from './seeded-random.js';

const PAGE = 8192;
const SEGMENT_PAGES = 1024; // 8 MiB per data file
const MIB = 1024 * 1024;

/** db01: a PostgreSQL 15 server with ~100 MiB of table files, half compressible rows, half random. */
export async function writeDb01Tree(tree: GuestTreeWriter): Promise<void> {
  await writeLinuxBaseTree(tree, 'db01', [{ name: 'dba', uid: 1000, fullName: 'Dana Bauer' }]);
  const rng = new SeededRandom('db01:files');
  const conf = '/etc/postgresql/15/main';
  await tree.file(`${conf}/postgresql.conf`, POSTGRESQL_CONF);
  await tree.file(`${conf}/pg_hba.conf`, 'local all postgres peer\nhost all all 10.0.0.0/8 scram-sha-256\n');
  await tree.file(`${conf}/pg_ident.conf`, '# MAPNAME SYSTEM-USERNAME PG-USERNAME\n');

  const data = '/var/lib/postgresql/15/main';
  await tree.file(`${data}/PG_VERSION`, '15\n', 0o600);
  await tree.file(`${data}/postmaster.opts`, '/usr/lib/postgresql/15/bin/postgres "-D" "/var/lib/postgresql/15/main"\n', 0o600);
  for (const empty of ['pg_notify', 'pg_replslot', 'pg_serial', 'pg_snapshots', 'pg_twophase', 'pg_tblspc']) {
    await tree.dir(`${data}/${empty}`, 0o700);
  }
  await tree.file(`${data}/global/pg_control`, rng.bytes(PAGE), 0o600);
  const database = `${data}/base/16384`;
  // Relation files: some hold text-like rows (compress well), some look encrypted (do not).
  const relations: [number, 'rows' | 'random', number][] = [
    [16385, 'rows', 3],
    [16390, 'random', 3],
    [16395, 'rows', 2],
    [16400, 'random', 2],
    [16405, 'rows', 2],
  ];
  for (const [oid, kind, segments] of relations) {
    for (let s = 0; s < segments; s++) {
      const name = s === 0 ? `${database}/${oid}` : `${database}/${oid}.${s}`;
      await tree.file(name, kind === 'rows' ? rowPages(rng, SEGMENT_PAGES) : rng.bytes(SEGMENT_PAGES * PAGE), 0o600);
    }
    await tree.file(`${database}/${oid}_fsm`, rng.bytes(3 * PAGE), 0o600);
  }
  await tree.file(`${data}/pg_wal/000000010000000000000001`, Buffer.concat([rng.bytes(4 * MIB), Buffer.alloc(12 * MIB)]), 0o600);
  await tree.dir(`${data}/pg_wal/archive_status`, 0o700);
  await tree.file('/var/log/postgresql/postgresql-15-main.log', prose(rng, 200_000));
  await tree.file('/home/dba/backup.sql', `-- nightly dump\n${prose(rng, 50_000)}`);
}

const POSTGRESQL_CONF = `data_directory = '/var/lib/postgresql/15/main'
hba_file = '/etc/postgresql/15/main/pg_hba.conf'
ident_file = '/etc/postgresql/15/main/pg_ident.conf'
listen_addresses = '*'
port = 5432
max_connections = 100
shared_buffers = 512MB
work_mem = 8MB
wal_level = replica
max_wal_size = 1GB
log_timezone = 'Europe/Berlin'
datestyle = 'iso, dmy'
timezone = 'Europe/Berlin'
`;

/** 8 KiB pages filled with customer-like rows: structured and compressible, as table files are. */
function rowPages(rng: SeededRandom, pages: number): Buffer {
  const buf = Buffer.alloc(pages * PAGE);
  const cities = ['Berlin', 'Hamburg', 'München', 'Köln', 'Frankfurt', 'Stuttgart', 'Leipzig'];
  for (let p = 0; p < pages; p++) {
    const base = p * PAGE;
    buf.writeUInt32LE(p, base); // page LSN-ish header
    let at = base + 24;
    while (at < base + PAGE - 120) {
      const row = `${rng.int(1_000_000)}|customer ${rng.int(50_000)}|${rng.pick(cities)}|${rng.between(1, 999)}.${rng.int(100)}|active`;
      at += buf.write(row, at, 'utf8') + 8;
    }
  }
  return buf;
}
