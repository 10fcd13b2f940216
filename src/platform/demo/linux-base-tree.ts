import { demoTime, prose } from './demo-text.js';
import type { GuestTreeWriter } from './guest-tree-writer.js';
import { SeededRandom } from './seeded-random.js';

export interface GuestUser {
  name: string;
  uid: number;
  fullName: string;
}

/** What every demo guest has: a Debian-like /etc, users' homes, merged-/usr symlinks, empty mount points. */
export async function writeLinuxBaseTree(tree: GuestTreeWriter, hostname: string, users: GuestUser[]): Promise<void> {
  const rng = new SeededRandom(`${hostname}:base`);
  await tree.file('/etc/hostname', `${hostname}\n`);
  await tree.file(
    '/etc/hosts',
    `127.0.0.1\tlocalhost\n127.0.1.1\t${hostname}.corp.example ${hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n`,
  );
  await tree.file('/usr/lib/os-release', 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n');
  await tree.symlink('/etc/os-release', '../usr/lib/os-release');
  await tree.symlink('/etc/localtime', '/usr/share/zoneinfo/Europe/Berlin');
  await tree.file('/etc/timezone', 'Europe/Berlin\n');
  await tree.file('/etc/fstab', 'UUID=00000000-0000-4000-8000-000000000001 / ext4 errors=remount-ro 0 1\n');
  await tree.file('/etc/passwd', passwd(users));
  await tree.file('/etc/group', group(users));
  await tree.file('/etc/shadow', users.map((u) => `${u.name}:!:19700:0:99999:7:::`).join('\n') + '\nroot:*:19700:0:99999:7:::\n', 0o640);
  await tree.file('/etc/resolv.conf', 'nameserver 10.0.0.2\nsearch corp.example\n');
  await tree.file('/etc/motd', `Welcome to ${hostname}. Unauthorised access is prohibited.\n`);
  await tree.file('/root/.bashrc', "export PS1='\\h:\\w# '\nalias ll='ls -l'\n");
  for (const u of users) {
    await tree.file(`/home/${u.name}/.bashrc`, `# ~/.bashrc for ${u.fullName}\nexport EDITOR=vim\nalias ll='ls -alF'\n`);
    await tree.file(`/home/${u.name}/.profile`, 'if [ -f ~/.bashrc ]; then . ~/.bashrc; fi\n');
    await tree.file(`/home/${u.name}/notes.txt`, prose(rng, 2000 + rng.int(6000)));
    await tree.file(`/home/${u.name}/.ssh/authorized_keys`, `ssh-ed25519 ${rng.bytes(32).toString('base64')} ${u.name}@laptop\n`, 0o600);
    await tree.dir(`/home/${u.name}/Downloads`);
  }
  await tree.symlink('/bin', 'usr/bin');
  await tree.symlink('/lib', 'usr/lib');
  await tree.symlink('/sbin', 'usr/sbin');
  await tree.dir('/usr/bin');
  await tree.dir('/usr/sbin');
  for (const empty of ['/tmp', '/mnt', '/media', '/opt', '/srv', '/var/tmp', '/var/cache']) await tree.dir(empty);
  await tree.file('/var/log/syslog', syslog(rng, hostname, 400));
}

function passwd(users: GuestUser[]): string {
  const system = [
    'root:x:0:0:root:/root:/bin/bash',
    'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin',
    'www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin',
    'postgres:x:108:114:PostgreSQL administrator:/var/lib/postgresql:/bin/bash',
    'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin',
  ];
  const people = users.map((u) => `${u.name}:x:${u.uid}:${u.uid}:${u.fullName},,,:/home/${u.name}:/bin/bash`);
  return [...system, ...people].join('\n') + '\n';
}

function group(users: GuestUser[]): string {
  const system = ['root:x:0:', 'daemon:x:1:', 'adm:x:4:' + users.map((u) => u.name).join(','), 'www-data:x:33:', 'postgres:x:114:'];
  return [...system, ...users.map((u) => `${u.name}:x:${u.uid}:`)].join('\n') + '\n';
}

function syslog(rng: SeededRandom, hostname: string, lines: number): string {
  const units = ['systemd[1]', 'cron[611]', 'sshd[902]', 'kernel', 'rsyslogd[520]'];
  const messages = ['Started Daily apt upgrade and clean activities.', 'Accepted publickey for admin from 10.0.0.15 port 51422', '(root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)', 'EXT4-fs (sda1): re-mounted. Quota mode: none.', 'Finished Rotate log files.'];
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    out.push(`${demoTime(i).toISOString()} ${hostname} ${rng.pick(units)}: ${rng.pick(messages)}`);
  }
  return out.join('\n') + '\n';
}
