import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalPlatform } from '../../../src/platform/local/local-platform.js';
import { runPlatformContract } from './platform-contract.js';

runPlatformContract({
  name: 'local platform',
  presentations: ['vsphere', 'hyperv', 'vcloud'],
  reportsHoles: true,
  changeTracking: false,
  open: async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'openem-contract-local-'));
    try {
      return { platform: await LocalPlatform.open(dataDir), close: () => rm(dataDir, { recursive: true, force: true }) };
    } catch (e) {
      await rm(dataDir, { recursive: true, force: true });
      throw e;
    }
  },
});
