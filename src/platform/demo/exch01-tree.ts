import { prose } from './demo-text.js';
import type { GuestTreeWriter } from './guest-tree-writer.js';
import { SeededRandom } from './seeded-random.js';

const KIB = 1024;
const MIB = 1024 * KIB;

/** The users whose profiles exch01 holds: one with a non-ASCII name. */
export const EXCH01_USERS = ['Administrator', 'ann.lee', 'Björn Østergård'] as const;
/** The folder of 10,000 entries (IIS logs of the Exchange front end). */
export const EXCH01_BIG_FOLDER = '/inetpub/logs/LogFiles/W3SVC1';
/** The folder the demo compresses (NTFS compression) once the volume is built, with the files written into it. */
export const EXCH01_COMPRESSED_FOLDER = '/Users/Administrator/Documents/Archive 2024 (compressed)';

/**
 * exch01: a Windows Exchange server (seed 000's VM) on NTFS: user profiles under C:/Users with documents, C:/Program
 * Files with the Exchange binaries, C:/Windows/System32 with a few thousand files, a folder of 10,000 log files,
 * long and non-ASCII names, a sparse mailbox database and hard links (~60 MiB of data). The compressed folder and
 * the alternate data streams are added on the NTFS volume itself (exch01NtfsExtras in demo-vms.ts).
 */
export async function writeExch01Tree(tree: GuestTreeWriter): Promise<void> {
  const rng = new SeededRandom('exch01:files');
  for (const user of EXCH01_USERS) {
    const home = `/Users/${user}`;
    await tree.file(`${home}/Documents/Quarterly report Q3.docx`, rng.bytes(rng.between(200 * KIB, 900 * KIB)));
    await tree.file(`${home}/Documents/Budget 2026.xlsx`, rng.bytes(rng.between(50 * KIB, 300 * KIB)));
    await tree.file(`${home}/Documents/notes.txt`, prose(rng, rng.between(2_000, 20_000)).replaceAll('\n', '\r\n'));
    await tree.file(`${home}/Desktop/desktop.ini`, '[.ShellClassInfo]\r\nLocalizedResourceName=@%SystemRoot%\\system32\\shell32.dll,-21769\r\n');
    await tree.file(`${home}/Downloads/Exchange2019-CU14-setup.exe`, rng.bytes(rng.between(1 * MIB, 3 * MIB)));
    await tree.file(`${home}/AppData/Local/Microsoft/Outlook/${user}.ost`, rng.bytes(rng.between(2 * MIB, 4 * MIB)));
  }
  const admin = '/Users/Administrator/Documents';
  await tree.file(`${admin}/Übersicht – Straße & Häuser.txt`, prose(rng, 8_000));
  await tree.file(`${admin}/日本語の議事録.txt`, prose(rng, 4_000));
  const longName = `Migration plan for the Exchange 2019 database availability group, with every step, owner, rollback and sign-off recorded for the audit of ${'2026 '.repeat(8)}`.trim();
  await tree.file(`${admin}/${longName.slice(0, 240)}.txt`, prose(rng, 3_000));
  // Hard links: the same bytes under two names, as Windows' component store links system files.
  await tree.file(`${admin}/Signature.htm`, '<p>Ann Lee<br>IT Operations</p>\r\n');
  await tree.hardLink(`${admin}/Signature.htm`, '/Users/ann.lee/Documents/Signature.htm');

  const bin = '/Program Files/Microsoft/Exchange Server/V15/Bin';
  for (let i = 0; i < 150; i++) await tree.file(`${bin}/Microsoft.Exchange.Component${String(i).padStart(3, '0')}.dll`, rng.bytes(rng.between(4 * KIB, 64 * KIB)));
  await tree.file(`${bin}/ExSetup.exe`, rng.bytes(2 * MIB));
  await tree.file('/Program Files/Microsoft/Exchange Server/V15/Bin/EdgeTransport.exe.config', '<configuration>\r\n  <runtime/>\r\n</configuration>\r\n');

  const system32 = '/Windows/System32';
  for (let i = 0; i < 2_500; i++) {
    const ext = ['dll', 'exe', 'sys', 'mui', 'cpl'][i % 5];
    await tree.file(`${system32}/${ext === 'sys' ? 'drivers/' : ''}win${String(i).padStart(4, '0')}.${ext}`, rng.bytes(rng.between(512, 6 * KIB)));
  }
  await tree.file(`${system32}/drivers/etc/hosts`, '# Copyright (c) 1993-2009 Microsoft Corp.\r\n127.0.0.1       localhost\r\n::1             localhost\r\n');
  await tree.hardLink(`${system32}/win0000.dll`, '/Windows/WinSxS/amd64_microsoft-windows-win0000_31bf3856ad364e35_10.0.17763.1_none/win0000.dll');

  for (let i = 0; i < 10_000; i++) {
    const day = new Date(Date.UTC(2026, 0, 1) + i * 3_600_000).toISOString().slice(2, 13).replace(/[-T]/g, '');
    await tree.file(`${EXCH01_BIG_FOLDER}/u_ex${day}.log`, `#Software: Microsoft Internet Information Services 10.0\r\n#Fields: date time s-ip cs-method cs-uri-stem\r\n${i} GET /owa/\r\n`);
  }
  // A mailbox database: 256 MiB long, data only in its header and one page in the middle (the rest holes).
  await tree.sparseFile('/ExchangeDatabases/DB01/DB01.edb', 256 * MIB, 128 * MIB, rng.bytes(64 * KIB));
}
