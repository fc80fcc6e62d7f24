import { localTime, withRepeatOffset } from './period';

/**
 * Formatting for the report: every value shown to a reader passes through here, so numbers, times and escaping are
 * the same in the HTML, the text part and the charts.
 */

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Control characters (C0 with tab, CR and LF, DEL, C1), line and paragraph separators and bidi controls (LRM, RLM,
 * ALM, embeddings, overrides, isolates). Host names, customers and rule ids come from traffic: a raw CR or tab breaks
 * the text part's columns, and U+202E reverses what follows it, so `exe.txt` can read as `txt.exe` in either part.
 */
const INVISIBLE_CONTROLS = /[\u0000-\u001F\u007F-\u009F\u061C\u200E\u200F\u2028\u2029\u202A-\u202E\u2066-\u2069]/g;

/** A value with its control and bidi-control characters shown as `\u202E`, so a reader sees them and they act on nothing. */
export function visible(value: unknown): string {
  return String(value ?? '').replace(INVISIBLE_CONTROLS, (c) => `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`);
}

/**
 * Text safe in HTML element content and in quoted attribute values, its control and bidi characters made
 * {@link visible}. Host names, rule ids and IPs come from traffic.
 */
export function escapeHtml(value: unknown): string {
  return visible(value).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const decimal1 = new Intl.NumberFormat('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const decimal2 = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const decimal3 = new Intl.NumberFormat('en-US', { minimumFractionDigits: 3, maximumFractionDigits: 3 });

/** `1,234,567`; a dash for a missing value, so an empty figure never reads as zero. */
export function formatCount(n: number | undefined): string {
  return n === undefined || !Number.isFinite(n) ? '–' : integer.format(n);
}

export function formatDecimal(n: number | undefined, digits: 1 | 2 | 3 = 1): string {
  if (n === undefined || !Number.isFinite(n)) return '–';
  return (digits === 1 ? decimal1 : digits === 2 ? decimal2 : decimal3).format(n);
}

export function formatPercent(share: number | undefined): string {
  return share === undefined || !Number.isFinite(share) ? '–' : `${decimal1.format(share * 100)}%`;
}

/** `$1,234.50`, a credit `-$3.00`. */
export function formatMoney(amount: number | undefined): string {
  if (amount === undefined || !Number.isFinite(amount)) return '–';
  const figure = decimal2.format(Math.abs(amount));
  return amount < 0 && figure !== '0.00' ? `-$${figure}` : `$${figure}`;
}

/** Bytes as megabytes (10^6), the unit of the customer CSVs. */
export function toMegabytes(bytes: number): number {
  return Math.round((bytes / 1_000_000) * 1000) / 1000;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** `2026-11-30 14:05` in the reader's zone; `2026-11-01 01:30 UTC-04:00` where that local time occurs twice. */
export function formatTime(instant: number | Date, timeZone: string): string {
  const t = localTime(new Date(instant), timeZone);
  return withRepeatOffset(`${t.year}-${pad(t.month)}-${pad(t.day)} ${pad(t.hour)}:${pad(t.minute)}`, instant, timeZone);
}

/** `14:05` in the reader's zone; `01:00 UTC-04:00` and `01:00 UTC-05:00` for the two hours a DST change repeats. */
export function formatClock(instant: number | Date, timeZone: string): string {
  const t = localTime(new Date(instant), timeZone);
  return withRepeatOffset(`${pad(t.hour)}:${pad(t.minute)}`, instant, timeZone);
}

/** `2 d 3 h`, `1 h 15 min`, `45 min`, `30 s`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const min = Math.round(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 48) return min % 60 === 0 ? `${h} h` : `${h} h ${min % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}
