import { badRequest } from '../errors.js';

/** Longest VM name we accept; the name is also a folder name on the datastore. */
export const MAX_VM_NAME_LENGTH = 128;

/**
 * Refuses names that cannot safely be a folder name on a datastore: path separators, NUL, `..`,
 * a leading dot (staging and deletion folders start with one), empty or over-long names.
 */
export function assertValidVmName(name: string): void {
  if (typeof name !== 'string' || name.length === 0) throw badRequest('VM name must not be empty');
  if (name.length > MAX_VM_NAME_LENGTH) {
    throw badRequest(`VM name is longer than ${MAX_VM_NAME_LENGTH} characters`);
  }
  if (/[/\\\0]/.test(name)) throw badRequest(`VM name must not contain '/', '\\' or NUL: ${JSON.stringify(name)}`);
  if (name.includes('..')) throw badRequest(`VM name must not contain '..': ${JSON.stringify(name)}`);
  if (name.startsWith('.')) throw badRequest(`VM name must not start with a dot: ${JSON.stringify(name)}`);
  if (name.trim() !== name) throw badRequest(`VM name must not start or end with whitespace: ${JSON.stringify(name)}`);
}
