import { open } from 'node:fs/promises';

/** Makes a rename, link or new file inside `dir` survive a crash (fsync of the folder itself). */
export async function syncDirectory(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
