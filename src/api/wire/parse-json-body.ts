import { badRequest } from '../../errors.js';
import type { BodySpec, ComplexSpec, ParsedObject } from './body-spec.js';
import { parseLeaf } from './parse-leaf.js';

const MAX_DEPTH = 32;

function validateComplex(spec: ComplexSpec, value: unknown, parentName: string, depth: number): ParsedObject {
  if (depth > MAX_DEPTH) throw badRequest(`JSON body is nested deeper than ${MAX_DEPTH} levels`);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw badRequest(`'${parentName}' must be an object`);
  const input = value as Record<string, unknown>;
  const out: ParsedObject = {};
  // JSON is order-free (em-api.md §2); property names are matched case-insensitively as .NET's serializer does.
  const byLower = new Map(Object.keys(input).map((k) => [k.toLowerCase(), k]));
  for (const key of Object.keys(input)) {
    if (!spec.children.some((c) => c.name.toLowerCase() === key.toLowerCase())) throw badRequest(`Unexpected element '${key}' in '${parentName}'`);
  }
  const present = spec.children.filter((c) => byLower.has(c.name.toLowerCase()) && input[byLower.get(c.name.toLowerCase())!] !== null);
  if (spec.mode === 'choice' && present.length !== 1) {
    throw badRequest(`'${parentName}' must contain exactly one of: ${spec.children.map((c) => c.name).join(', ')}`);
  }
  for (const child of spec.children) {
    const key = byLower.get(child.name.toLowerCase());
    const v = key === undefined ? undefined : input[key];
    if (v === undefined || v === null) {
      if (child.min === 1 && spec.mode === 'sequence') throw badRequest(`Required element '${child.name}' is missing in '${parentName}'`);
      continue;
    }
    out[child.name] = typeof child.type === 'string' ? parseLeaf(child, v) : validateComplex(child.type, v, child.name, depth + 1);
  }
  return out;
}

/** Parses a JSON request body against the same spec as its XML form; the root element's name is not in JSON. */
export function parseJsonBody(body: string, spec: BodySpec): ParsedObject {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (e) {
    throw badRequest(`Malformed JSON body: ${(e as Error).message}`);
  }
  return validateComplex(spec.content, value, spec.root, 0);
}
