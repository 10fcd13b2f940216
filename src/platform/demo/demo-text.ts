import type { SeededRandom } from './seeded-random.js';

const WORDS = (
  'the quarterly report shows revenue growth across all regions while operating costs remained stable ' +
  'customer satisfaction improved after the migration to the new platform and the team delivered ' +
  'every milestone on schedule budget forecast review meeting project plan backup restore storage ' +
  'network server cluster replica policy retention compliance audit invoice contract supplier order ' +
  'shipment warehouse inventory analysis summary proposal agenda minutes action item owner deadline'
).split(' ');

/** One sentence of office-like prose. */
export function sentence(rng: SeededRandom): string {
  const n = rng.between(6, 16);
  const words: string[] = [];
  for (let i = 0; i < n; i++) words.push(rng.pick(WORDS));
  const s = words.join(' ');
  return s[0].toUpperCase() + s.slice(1) + '.';
}

/** Paragraphs of prose, roughly `bytes` long: compressible, like real documents and logs. */
export function prose(rng: SeededRandom, bytes: number): string {
  const parts: string[] = [];
  let len = 0;
  while (len < bytes) {
    const sentences: string[] = [];
    for (let i = rng.between(3, 7); i > 0; i--) sentences.push(sentence(rng));
    const p = sentences.join(' ') + '\n\n';
    parts.push(p);
    len += p.length;
  }
  return parts.join('');
}

/** A timestamp `i` steps of `stepSeconds` after a fixed start, so logs read the same every time. */
export function demoTime(i: number, stepSeconds = 37): Date {
  return new Date(Date.UTC(2026, 0, 12, 8, 0, 0) + i * stepSeconds * 1000);
}
