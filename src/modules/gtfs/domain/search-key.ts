// Search keys: case- and accent-insensitive ("Zürich Straße" → "zurich strasse").
const EXTRA: Record<string, string> = { ß: "ss", æ: "ae", œ: "oe", ø: "o", ł: "l", đ: "d", ð: "d", þ: "th", ı: "i" };

export function searchKey(text: string): string {
  return text
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .toLowerCase()
    .replace(/[ßæœøłđðþı]/g, (c) => EXTRA[c] ?? c)
    .replace(/\s+/g, " ")
    .trim();
}
