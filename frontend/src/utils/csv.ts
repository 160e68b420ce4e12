// CSV the console writes itself (a report it has on screen): RFC 4180
// quoting, CRLF lines, and a byte-order mark so spreadsheet programs read
// the Cyrillic right.

function cell(v: string | number): string {
  const s = String(v)
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s
}

export function toCsv(rows: (string | number)[][]): Blob {
  return new Blob(['\uFEFF' + rows.map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n'], { type: 'text/csv;charset=utf-8' })
}
