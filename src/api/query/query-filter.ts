import { badRequest } from '../../errors.js';
import { wildcardMatcher } from './wildcard.js';
import type { FieldValue } from '../inventory/resource-kind.js';

/**
 * Enterprise Manager's query filter (em-api.md §4 "Query service"): `field==v`, `!=`, `>`, `<`, `>=`, `<=`;
 * `;` is AND and binds tighter than `,` (OR), as in FIQL; parentheses group; values may be quoted.
 */
export type Filter = (fields: Record<string, FieldValue>) => boolean;

const OPS = ['==', '!=', '>=', '<=', '>', '<'] as const;
type Op = (typeof OPS)[number];
const MAX_FILTER = 2048;

function compare(actual: FieldValue, op: Op, raw: string): boolean {
  if (actual === undefined) return op === '!=';
  let cmp: number;
  if (typeof actual === 'number') {
    const asNumber = Number(raw);
    const value = raw.trim() !== '' && Number.isFinite(asNumber) ? asNumber : Date.parse(raw);
    if (Number.isNaN(value)) throw badRequest(`Filter value '${raw}' is not a number or a date`);
    cmp = actual - value;
  } else {
    if ((op === '==' || op === '!=') && raw.includes('*')) {
      return wildcardMatcher(raw)(actual) === (op === '==');
    }
    cmp = actual.localeCompare(raw, undefined, { sensitivity: 'accent' });
  }
  switch (op) {
    case '==': return cmp === 0;
    case '!=': return cmp !== 0;
    case '>': return cmp > 0;
    case '<': return cmp < 0;
    case '>=': return cmp >= 0;
    case '<=': return cmp <= 0;
  }
}

/** `knownFields` undefined accepts any field name: with nothing to filter, no field can be checked against an item. */
export function parseFilter(text: string, knownFields: Set<string> | undefined): Filter {
  if (text.length > MAX_FILTER) throw badRequest(`Filter longer than ${MAX_FILTER} characters`);
  let i = 0;
  const peek = () => text[i];
  const skipSpace = () => { while (text[i] === ' ') i++; };

  function orExpr(): Filter {
    const parts = [andExpr()];
    while (peek() === ',') { i++; parts.push(andExpr()); }
    return parts.length === 1 ? parts[0] : (f) => parts.some((p) => p(f));
  }
  function andExpr(): Filter {
    const parts = [primary()];
    while (peek() === ';') { i++; parts.push(primary()); }
    return parts.length === 1 ? parts[0] : (f) => parts.every((p) => p(f));
  }
  function primary(): Filter {
    skipSpace();
    if (peek() === '(') {
      i++;
      const inner = orExpr();
      skipSpace();
      if (peek() !== ')') throw badRequest(`Filter: expected ')' at position ${i}`);
      i++;
      skipSpace();
      return inner;
    }
    const start = i;
    while (i < text.length && /[A-Za-z0-9_.]/.test(text[i])) i++;
    const field = text.slice(start, i).toLowerCase();
    if (!field) throw badRequest(`Filter: expected a field name at position ${start}`);
    if (knownFields && !knownFields.has(field)) throw badRequest(`Filter: unknown field '${text.slice(start, i)}'`);
    const op = OPS.find((o) => text.startsWith(o, i));
    if (!op) throw badRequest(`Filter: expected an operator (==, !=, >, <, >=, <=) after '${text.slice(start, i)}'`);
    i += op.length;
    let value = '';
    if (peek() === '"') {
      const end = text.indexOf('"', i + 1);
      if (end < 0) throw badRequest('Filter: unterminated quoted value');
      value = text.slice(i + 1, end);
      i = end + 1;
    } else {
      const vs = i;
      while (i < text.length && ![';', ',', ')'].includes(text[i])) i++;
      value = text.slice(vs, i).trim();
    }
    skipSpace();
    // A UID may be given bare (`BackupServerUid==7445e6ce-…`, get_query_agentprotectiongroup.md): compare ids then.
    if (field.endsWith('uid') && !/^urn:/i.test(value)) {
      return (f) => {
        const actual = f[field];
        return compare(typeof actual === 'string' ? actual.slice(actual.lastIndexOf(':') + 1) : actual, op, value);
      };
    }
    return (f) => compare(f[field], op, value);
  }

  const filter = orExpr();
  if (i < text.length) throw badRequest(`Filter: unexpected '${text[i]}' at position ${i}`);
  return filter;
}
