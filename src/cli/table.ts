// What the admin commands print: plain aligned tables, key/value listings, and the --json form. Written by hand: a
// dozen lines do the job, and the output stays plain text a script can still cut.
export type Cell = string | number | boolean | null | undefined;

/** Names, notes and labels come from other people; control characters in them must not reach the terminal. */
function clean(value: Cell): string {
  if (value === null || value === undefined || value === '') return '-';
  // eslint-disable-next-line no-control-regex -- control characters are what a table cell must not print
  return String(value).replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
}

/** Columns padded to their widest cell (string length: wide characters may misalign, which a table only suffers). */
export function formatTable(headers: readonly string[], rows: ReadonlyArray<readonly Cell[]>): string {
  const text = rows.map((row) => headers.map((_, i) => clean(row[i])));
  const widths = headers.map((header, i) => Math.max(header.length, ...text.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ');
  return [line(headers), ...text.map(line)].join('\n') + '\n';
}

/** One entity as `field  value` lines. */
export function formatFields(fields: ReadonlyArray<readonly [string, Cell]>): string {
  const width = Math.max(...fields.map(([name]) => name.length));
  return fields.map(([name, value]) => `${name.padEnd(width)}  ${clean(value)}`).join('\n') + '\n';
}

/** A table, or a line saying there is nothing (a bare header reads like a failure). */
export function printTable(headers: readonly string[], rows: ReadonlyArray<readonly Cell[]>, noun: string): void {
  process.stdout.write(rows.length === 0 ? `no ${noun}\n` : formatTable(headers, rows));
}

export function printFields(fields: ReadonlyArray<readonly [string, Cell]>): void {
  process.stdout.write(formatFields(fields));
}

/** The API's answer as it came, for scripts (`--json`). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** The usage text, on --help (stdout, exit 0). */
export function printUsage(usage: string): number {
  process.stdout.write(usage);
  return 0;
}

/** An ISO time to the second: the milliseconds are noise in a table. */
export function time(iso: string | null | undefined): string | null {
  return iso === null || iso === undefined ? null : iso.replace(/\.\d{3}Z$/, 'Z');
}

/** `{ tier: critical, env: prod }` as `tier=critical,env=prod`. */
export function labelList(labels: Record<string, string> | null | undefined): string {
  return Object.entries(labels ?? {})
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}
