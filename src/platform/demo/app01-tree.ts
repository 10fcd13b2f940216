import { demoTime } from './demo-text.js';
import type { GuestTreeWriter } from './guest-tree-writer.js';
import { writeLinuxBaseTree } from './linux-base-tree.js';
import { SeededRandom } from './seeded-random.js';

/** app01: a small Node.js service with a systemd unit, config, releases and a "current" symlink (~5 MiB). */
export async function writeApp01Tree(tree: GuestTreeWriter): Promise<void> {
  await writeLinuxBaseTree(tree, 'app01', [{ name: 'deploy', uid: 1000, fullName: 'Deploy User' }]);
  const rng = new SeededRandom('app01:files');
  await tree.file('/etc/systemd/system/orders.service', '[Unit]\nDescription=Orders API\nAfter=network.target\n\n[Service]\nUser=deploy\nWorkingDirectory=/opt/orders/current\nExecStart=/usr/bin/node server.js\nEnvironmentFile=/etc/orders/orders.env\nRestart=on-failure\n\n[Install]\nWantedBy=multi-user.target\n');
  await tree.file('/etc/orders/orders.env', `PORT=8080\nDATABASE_URL=postgres://orders@db01.corp.example/orders\nSESSION_SECRET=${rng.bytes(24).toString('hex')}\n`, 0o600);
  for (const version of ['1.4.2', '1.5.0']) {
    const root = `/opt/orders/releases/${version}`;
    await tree.file(`${root}/package.json`, JSON.stringify({ name: 'orders', version, main: 'server.js' }, null, 2) + '\n');
    await tree.file(`${root}/server.js`, `// orders ${version}\nimport http from 'node:http';\nhttp.createServer((req, res) => res.end('ok')).listen(process.env.PORT);\n`, 0o755);
    await tree.file(`${root}/node_modules/.package-lock.json`, '{}\n');
    await tree.file(`${root}/public/bundle.js`, rng.bytes(2 * 1024 * 1024).toString('base64').slice(0, 1_500_000));
  }
  await tree.symlink('/opt/orders/current', 'releases/1.5.0');
  await tree.dir('/var/lib/orders/uploads');
  const lines: string[] = [];
  for (let i = 0; i < 5000; i++) {
    lines.push(JSON.stringify({ time: demoTime(i, 5).toISOString(), level: 30, msg: 'order created', orderId: rng.int(1e6) }));
  }
  await tree.file('/var/log/orders/orders.log', lines.join('\n') + '\n');
}
