/** The column types the migrations need that differ between the dialects: auto-increment and 64-bit integers. */
export interface ColumnTypes {
  serial: 'bigserial' | 'integer';
  bigint: 'bigint' | 'integer';
  /** Adds the auto-increment primary key column `seq` to a table being created. */
  seqColumn: (table: any) => any;
}

export type Dialect = 'sqlite' | 'postgres';

export function columnTypes(dialect: Dialect): ColumnTypes {
  const serial: ColumnTypes['serial'] = dialect === 'postgres' ? 'bigserial' : 'integer';
  const bigint: ColumnTypes['bigint'] = dialect === 'postgres' ? 'bigint' : 'integer';
  const seqColumn = (t: any) =>
    dialect === 'postgres'
      ? t.addColumn('seq', serial, (c: any) => c.primaryKey())
      : t.addColumn('seq', 'integer', (c: any) => c.primaryKey().autoIncrement());
  return { serial, bigint, seqColumn };
}
