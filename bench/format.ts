// How the benchmark writes its numbers (MB are 10^6 bytes) and a row of a Markdown table.
export function fmtMs(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${(ms / 1000).toFixed(2)} s`;
}
export function fmtKiB(kib: number): string {
  return `${((kib * 1024) / 1e6).toFixed(0)} MB`;
}
export function fmtBytes(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : `${(bytes / 1e6).toFixed(1)} MB`;
}
export function fmtRate(perSecond: number): string {
  return perSecond >= 1e6 ? `${(perSecond / 1e6).toFixed(2)} M` : `${Math.round(perSecond / 1000).toLocaleString('en-US')} k`;
}
export function fmtRatio(ratio: number): string {
  return `${ratio.toFixed(2)}×`;
}

/** One row of a Markdown table. */
export function markdownRow(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}
