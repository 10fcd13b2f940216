/**
 * Windows compares names case-insensitively through the volume's own `$UpCase` table (one 16-bit upper-case code
 * unit per code unit), not through Unicode case rules: the key made here is what two names must share to be "the
 * same name" on that volume.
 */
export type NameKey = (name: string) => string;

export function upcaseKey(table: Buffer): NameKey {
  const entries = Math.min(65536, Math.floor(table.length / 2));
  const map = new Uint16Array(65536);
  for (let i = 0; i < 65536; i++) map[i] = i < entries ? table.readUInt16LE(i * 2) : i;
  return (name) => {
    const units = new Uint16Array(name.length);
    for (let i = 0; i < name.length; i++) units[i] = map[name.charCodeAt(i)];
    return String.fromCharCode.apply(null, units as unknown as number[]);
  };
}
