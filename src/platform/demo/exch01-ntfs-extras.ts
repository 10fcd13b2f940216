import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setAttribute } from 'fs-xattr';
import { prose } from './demo-text.js';
import { EXCH01_COMPRESSED_FOLDER, EXCH01_USERS } from './exch01-tree.js';
import { SeededRandom } from './seeded-random.js';

/** FILE_ATTRIBUTE_COMPRESSED, as ntfs-3g's `system.ntfs_attrib` takes it (little-endian). */
const COMPRESSED_LE = Buffer.from([0x00, 0x08, 0x00, 0x00]);

/**
 * What exch01 holds that a host folder cannot: a folder flagged compressed (NTFS compression, set through ntfs-3g's
 * `system.ntfs_attrib` before its files are written, so they are compressed) and alternate data streams (the
 * "downloaded from the Internet" Zone.Identifier Windows puts on downloads), written through ntfs-3g's stream
 * interface (`user.<stream>` extended attributes on the build mount), both with setxattr(2) (fs-xattr). Runs on the
 * mounted volume at build time; the paths and bytes are the demo's own.
 */
export async function exch01NtfsExtras(root: string): Promise<void> {
  const rng = new SeededRandom('exch01:archive');
  const archive = join(root, EXCH01_COMPRESSED_FOLDER);
  await mkdir(archive);
  await setAttribute(archive, 'system.ntfs_attrib', COMPRESSED_LE);
  for (const month of ['January', 'February', 'March', 'April', 'May', 'June']) {
    await writeFile(join(archive, `Mail export ${month} 2024.txt`), prose(rng, 200_000).replaceAll('\n', '\r\n'));
  }
  const zone = Buffer.from('[ZoneTransfer]\r\nZoneId=3\r\nReferrerUrl=https://www.microsoft.com/\r\n');
  for (const user of EXCH01_USERS) {
    const download = join(root, 'Users', user, 'Downloads', 'Exchange2019-CU14-setup.exe');
    await setAttribute(download, 'user.Zone.Identifier', zone);
  }
}
