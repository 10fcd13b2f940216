import type { BlockSource, Extent, LocalFileView } from '../../disks/block-source.js';
import { ImageFileSource } from '../../disks/image-file-source.js';
import { fileDataExtents } from './file-extents.js';

/**
 * A local VM's disk: its raw sparse image file, with the filesystem's extent map (FIEMAP through `filefrag`) as
 * the source's `allocatedExtents`, asked once per opening so backup and QuickRollback skip the holes of a thin
 * disk alike. When the map cannot be had, the whole file counts as data (the image reader's answer).
 * No changed-block tracking: the local platform does not see writes.
 */
export class LocalImageSource implements BlockSource {
  private extents: Promise<Extent[]> | undefined;

  private constructor(private readonly image: ImageFileSource) {}

  static async open(path: string): Promise<LocalImageSource> {
    return new LocalImageSource(await ImageFileSource.open(path));
  }

  get size(): number {
    return this.image.size;
  }

  get localFile(): LocalFileView {
    return this.image.localFile;
  }

  read(offset: number, length: number): Promise<Buffer> {
    return this.image.read(offset, length);
  }

  readInto(offset: number, target: Uint8Array): Promise<void> {
    return this.image.readInto(offset, target);
  }

  allocatedExtents(): Promise<Extent[]> {
    this.extents ??= fileDataExtents(this.image.path, this.size).then((found) => found ?? this.image.allocatedExtents());
    return this.extents;
  }

  close(): Promise<void> {
    return this.image.close();
  }
}
