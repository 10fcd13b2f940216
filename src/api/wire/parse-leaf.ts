import { badRequest } from '../../errors.js';
import type { ElementSpec, LeafType } from './body-spec.js';

const DEFAULT_MAX_STRING = 4096;

/** Converts a leaf's text (XML) or value (JSON) to its declared type, or refuses naming the element. */
export function parseLeaf(spec: ElementSpec, raw: unknown): string | number | boolean {
  const type = spec.type as LeafType;
  if (type === 'boolean') {
    if (raw === true || raw === false) return raw;
    const s = String(raw).trim().toLowerCase();
    if (s === 'true' || s === '1') return true;
    if (s === 'false' || s === '0') return false;
    throw badRequest(`Element '${spec.name}' must be a boolean (true or false)`);
  }
  if (type === 'int') {
    const n = typeof raw === 'number' ? raw : Number(String(raw).trim());
    if (!Number.isSafeInteger(n)) throw badRequest(`Element '${spec.name}' must be an integer`);
    return n;
  }
  if (raw !== null && typeof raw === 'object') throw badRequest(`Element '${spec.name}' must be a string`);
  const s = raw === null || raw === undefined ? '' : String(raw);
  if (s.length > (spec.maxLength ?? DEFAULT_MAX_STRING)) throw badRequest(`Element '${spec.name}' is too long`);
  if (s.includes('\0')) throw badRequest(`Element '${spec.name}' contains a NUL character`);
  return s;
}
