import { prose } from './demo-text.js';
import type { GuestTreeWriter } from './guest-tree-writer.js';
import { writeLinuxBaseTree } from './linux-base-tree.js';
import { SeededRandom } from './seeded-random.js';

const MIB = 1024 * 1024;

/**
 * files01: a Samba file share with department folders, names with spaces and non-ASCII characters
 * (the cases file restore must get right), and one 50 MiB file (~75 MiB in all).
 */
export async function writeFiles01Tree(tree: GuestTreeWriter): Promise<void> {
  await writeLinuxBaseTree(tree, 'files01', [
    { name: 'bob', uid: 1000, fullName: 'Bob Schäfer' },
    { name: 'carol', uid: 1001, fullName: 'Carol Jansen' },
  ]);
  const rng = new SeededRandom('files01:files');
  await tree.file('/etc/samba/smb.conf', '[global]\n   workgroup = CORP\n   server role = standalone server\n\n[share]\n   path = /srv/share\n   read only = no\n   browseable = yes\n');

  const share = '/srv/share';
  await tree.file(`${share}/Überblick 2026.txt`, prose(rng, 12_000));
  await tree.file(`${share}/README.txt`, 'Department share. Ask IT before deleting anything.\n');
  const documents: Record<string, string[]> = {
    'Finance/Budget 2026': ['Q1 forecast.csv', 'Q2 forecast.csv', 'Kostenübersicht.txt', 'notes (draft).md'],
    'Finance/Invoices/2025': ['INV-2025-0001.txt', 'INV-2025-0002.txt', 'INV-2025-0117.txt'],
    'Human Resources/Policies': ['Remote work policy.md', 'Travel & expenses.md', 'Urlaubsantrag – Vorlage.txt'],
    'Projects/Apollo/Design': ['architecture overview.md', 'decisions log.md', 'Straße & Häuser.txt'],
    'Projects/Apollo/Meetings/2026-01': ['kick-off.md', 'weekly 01.md', 'weekly 02.md'],
    'Projects/Zephyr': ['proposal.md', 'résumé of findings.txt', '日本語メモ.txt'],
    'Marketing/Campaigns/Spring': ['brief.md', 'copy v1.txt', 'copy v2 final FINAL.txt'],
  };
  for (const [folder, names] of Object.entries(documents)) {
    for (const name of names) {
      const content = name.endsWith('.csv') ? csv(rng, 2000) : prose(rng, rng.between(2_000, 60_000));
      await tree.file(`${share}/${folder}/${name}`, content);
    }
  }
  for (let i = 1; i <= 6; i++) {
    // Scans and slides are already compressed formats: random bytes stand in for them.
    await tree.file(`${share}/Marketing/Campaigns/Spring/visual ${i}.png`, rng.bytes(rng.between(MIB / 4, 2 * MIB)));
  }
  await tree.file(`${share}/Projects/Apollo/Design/site survey.pdf`, rng.bytes(3 * MIB));
  await tree.file(`${share}/Archive/2019 full export.zip`, rng.bytes(50 * MIB));
  await tree.dir(`${share}/Archive/Empty folder`);
  await tree.dir(`${share}/Scans/To sort`);
  await tree.symlink(`${share}/Current project`, 'Projects/Apollo');
  await tree.file('/home/bob/Documents/Einkaufsliste.txt', 'Milch\nBrot\nKäse\n');
  await tree.file('/home/carol/Documents/todo.md', '- review Apollo design\n- sign invoices\n');
}

function csv(rng: SeededRandom, rows: number): string {
  const lines = ['date,account,description,amount'];
  for (let i = 0; i < rows; i++) {
    lines.push(`2026-${String(rng.between(1, 12)).padStart(2, '0')}-${String(rng.between(1, 28)).padStart(2, '0')},${rng.between(4000, 4999)},item ${rng.int(500)},${rng.between(1, 99999) / 100}`);
  }
  return lines.join('\n') + '\n';
}
