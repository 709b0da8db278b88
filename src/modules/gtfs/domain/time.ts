// GTFS times are "H:MM:SS" or "HH:MM:SS" counted from "noon minus 12h" of the service day, and may exceed
// 24:00:00 for trips running past midnight. They are stored as seconds since that reference point.

/** Seconds for a GTFS time, or undefined when malformed. Minutes and seconds must be 00–59; hours 0–(any). */
export function parseGtfsTime(text: string): number | undefined {
  const s = text.trim();
  const c1 = s.indexOf(":");
  if (c1 < 1 || c1 > 3 || s.length !== c1 + 6 || s.charCodeAt(c1 + 3) !== 58) return undefined;
  const h = digits(s, 0, c1);
  const m = digits(s, c1 + 1, c1 + 3);
  const sec = digits(s, c1 + 4, c1 + 6);
  if (h < 0 || m < 0 || sec < 0 || m > 59 || sec > 59) return undefined;
  return h * 3600 + m * 60 + sec;
}

function digits(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** Seconds → "HH:MM:SS" (hours may exceed 23). */
export function formatGtfsTime(secs: number): string {
  const h = Math.floor(secs / 3600);
  const m = Math.floor((secs % 3600) / 60);
  const s = secs % 60;
  return `${h < 10 ? "0" : ""}${h}:${pad2(m)}:${pad2(s)}`;
}

export function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** "YYYYMMDD" → "YYYY-MM-DD" when it is a real calendar date, else undefined. */
export function parseGtfsDate(text: string): string | undefined {
  const s = text.trim();
  if (s.length !== 8) return undefined;
  const y = digits(s, 0, 4);
  const m = digits(s, 4, 6);
  const d = digits(s, 6, 8);
  if (y < 1900 || m < 1 || m > 12 || d < 1) return undefined;
  if (d > daysInMonth(y, m)) return undefined;
  return `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}`;
}

function daysInMonth(y: number, m: number): number {
  return new Date(Date.UTC(y, m, 0)).getUTCDate();
}

/** Day arithmetic on ISO dates ("YYYY-MM-DD"), calendar-only (no time zone involved). */
export function addDays(isoDate: string, days: number): string {
  const t = Date.parse(`${isoDate}T00:00:00Z`) + days * 86_400_000;
  return new Date(t).toISOString().slice(0, 10);
}

/** 0 = Monday … 6 = Sunday, matching the calendar.txt column order. */
export function weekdayIndex(isoDate: string): number {
  const js = new Date(`${isoDate}T00:00:00Z`).getUTCDay(); // 0 = Sunday
  return (js + 6) % 7;
}

export function isIsoDate(text: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(text) && parseGtfsDate(text.replaceAll("-", "")) !== undefined;
}
