/** Short time for a message: "14:05" today, "Mon 14:05" this week, else a date. */
export function formatTime(iso: string, now = new Date()): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const time = date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  if (date.toDateString() === now.toDateString()) return time;
  const days = (now.getTime() - date.getTime()) / 86_400_000;
  if (days < 6) return `${date.toLocaleDateString([], { weekday: 'short' })} ${time}`;
  return date.toLocaleDateString([], { day: 'numeric', month: 'short', year: 'numeric' });
}

/** The full date and time, for a tooltip. */
export function formatFull(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? '' : date.toLocaleString();
}

/** Splits "alice, bob  carol" into distinct usernames. */
export function parseUsernames(text: string): string[] {
  const names = text
    .split(/[\s,;]+/)
    .map((name) => name.trim().replace(/^@/, ''))
    .filter(Boolean);
  return [...new Set(names.map((name) => name.toLowerCase()))];
}
