/**
 * Request bodies described once, as the XSD sequences Enterprise Manager enforces (seed 001: "make sure that the
 * order of parameters in the request body is correct"). The same spec validates XML (order enforced) and JSON
 * (order-free), so both parse into the same typed object.
 */
export type LeafType = 'string' | 'boolean' | 'int';

export interface ElementSpec {
  name: string;
  /** Min occurrence: 0 optional, 1 required. Max is always 1 in the bodies we accept. */
  min: 0 | 1;
  type: LeafType | ComplexSpec;
  /** Longest accepted string value. */
  maxLength?: number;
}

export interface ComplexSpec {
  /** `sequence`: children in this order; `choice`: exactly one of them. */
  mode: 'sequence' | 'choice';
  children: ElementSpec[];
}

export interface BodySpec {
  root: string;
  content: ComplexSpec;
}

export type ParsedValue = string | number | boolean | ParsedObject;
export interface ParsedObject {
  [name: string]: ParsedValue;
}

export const seq = (...children: ElementSpec[]): ComplexSpec => ({ mode: 'sequence', children });
export const choice = (...children: ElementSpec[]): ComplexSpec => ({ mode: 'choice', children });
export const req = (name: string, type: ElementSpec['type'], maxLength?: number): ElementSpec => ({ name, min: 1, type, maxLength });
export const opt = (name: string, type: ElementSpec['type'], maxLength?: number): ElementSpec => ({ name, min: 0, type, maxLength });
