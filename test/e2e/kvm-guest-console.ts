import { readFile } from 'node:fs/promises';
import { GUEST_DOWN_MARKER, GUEST_UP_MARKER } from '../../src/platform/demo/kvm-guest-image.js';
import { waitFor } from '../helpers/em-client.js';

/** What a bootable guest's UP line says: its boot count, the heartbeat it found, the hashes of /data before and after. */
export interface GuestUp {
  boot: number;
  found: string;
  before: string;
  after: string;
}

/** The console's marker lines, in order: each boot's UP line and each shutdown's DOWN line. */
export async function consoleEvents(file: string): Promise<string[]> {
  const text = await readFile(file, 'latin1').catch(() => '');
  // Only whole lines: the guest may be half-way through printing the last one (an UP line without its after= yet).
  const lines = text.split(/\r?\n/).slice(0, -1);
  return lines.filter((l) => l.startsWith(GUEST_UP_MARKER) || l.startsWith(GUEST_DOWN_MARKER));
}

function parseUp(line: string): GuestUp {
  const field = (k: string) => new RegExp(`\\b${k}=(\\S+)`).exec(line)?.[1] ?? '';
  return { boot: Number(field('boot')), found: field('found'), before: field('before'), after: field('after') };
}

/** Waits until the console shows its `n`-th UP line (the guest booted, wrote its heartbeat and synced). */
export async function nthBoot(file: string, n: number): Promise<GuestUp> {
  const line = await waitFor(`boot ${n} of the guest on its console`, async () => (await consoleEvents(file)).filter((l) => l.startsWith(GUEST_UP_MARKER))[n - 1], 240_000, 200);
  return parseUp(line);
}
