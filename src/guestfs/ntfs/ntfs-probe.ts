import type { GuestFilesystemProbe } from '../guest-filesystem-probe.js';
import { hasNtfsSignature } from './ntfs-boot-sector.js';
import { NtfsReader } from './ntfs-reader.js';

/** NTFS, read by openem's own reader: a Windows guest, its volumes addressed by drive letter. */
export const ntfsProbe: GuestFilesystemProbe = {
  kind: 'ntfs',
  osKind: 'Windows',
  driveLetters: true,
  detect: hasNtfsSignature,
  open: (volume) => NtfsReader.open(volume),
};
