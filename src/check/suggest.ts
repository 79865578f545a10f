/** "Did you mean …?" for names that are almost right (service names with a typo). */
import { distance } from "fastest-levenshtein";

/**
 * The candidate closest to `name` (case-insensitive edit distance), if it is close
 * enough to be a typo: at most a third of the name's length, and at least 1 edit.
 */
export function nearestName(name: string, candidates: readonly string[]): string | undefined {
  const wanted = name.toLowerCase();
  const limit = Math.max(1, Math.floor(wanted.length / 3));
  let best: { candidate: string; d: number } | undefined;
  for (const candidate of candidates) {
    const d = distance(wanted, candidate.toLowerCase());
    if (d <= limit && (!best || d < best.d)) best = { candidate, d };
  }
  return best?.candidate;
}
