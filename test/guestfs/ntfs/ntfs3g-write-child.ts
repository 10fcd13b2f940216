/**
 * A stand-in for a server killed mid-restore (ntfs3g-writer.test.ts): writes a big file into an NTFS volume through
 * Ntfs3gWriter, prints `writing` once the first MiB is in, then never gives the rest; the test SIGKILLs it there.
 * argv: image, offset, size, work root.
 */
import { Readable } from 'node:stream';
import { Ntfs3gWriter } from '../../../src/guestfs/ntfs/ntfs3g-writer.js';

const [image, offset, size, workRoot] = process.argv.slice(2);
const MiB = 1024 * 1024;
const writer = new Ntfs3gWriter({ imagePath: image, offset: Number(offset), size: Number(size), workRoot });
let sent = 0;
await writer.write({
  parent: [Buffer.from('Users')],
  item: {
    type: 'file',
    name: Buffer.from('report.docx'),
    attrs: { mtime: new Date() },
    size: 8 * MiB,
    dataRanges: [{ start: 0, end: 8 * MiB }],
    read: async () =>
      new Readable({
        read() {
          if (sent++ === 0) this.push(Buffer.alloc(MiB, 1));
          else process.stdout.write('writing\n');
        },
      }),
  },
  onExisting: 'replace',
});
