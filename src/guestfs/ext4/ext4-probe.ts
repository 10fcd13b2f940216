import type { GuestFilesystemProbe } from '../guest-filesystem-probe.js';
import { Ext4Reader } from './ext4-reader.js';
import { hasExt4Magic } from './ext4-superblock.js';

/** ext2/3/4, read by openem's own reader: a Linux guest, one `/` root. */
export const ext4Probe: GuestFilesystemProbe = {
  kind: 'ext4',
  osKind: 'Linux',
  driveLetters: false,
  detect: hasExt4Magic,
  open: (volume) => Ext4Reader.open(volume),
};
