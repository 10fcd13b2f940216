// The writer the blob store contract kills mid-put: opens the store at argv[2] and puts the known object under
// argv[3] (argv[4] MiB from seed argv[5]), printing `putting` just before and `put done` after.
import { openBlobStore } from '../../src/repository/stores/open-blob-store.js';
import { putChildContent } from './blob-store-put-content.js';

const [location, key, mib, seed] = process.argv.slice(2);
const store = openBlobStore(location);
const data = putChildContent(Number(mib), Number(seed));
const parts = Array.from({ length: Number(mib) }, (_, i) => data.subarray(i * 1024 * 1024, (i + 1) * 1024 * 1024));
process.stdout.write('putting\n');
await store.put(key, parts);
process.stdout.write('put done\n');
