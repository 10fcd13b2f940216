/**
 * `*` matches any run of characters (none included), every other character only itself, without regard to case:
 * EM's lookup `name=` and the query filter's `==`/`!=` with a `*` in the value.
 *
 * The classic two-pointer matcher: on a mismatch it backtracks only to the last `*` seen, so a pattern of m
 * characters against a name of n characters takes at most O(n·m) steps. A regular expression built from the
 * pattern (`^a.*.*.*z$`) backtracks exponentially on a request's `***…*z` and blocks the event loop.
 */
export function wildcardMatcher(pattern: string): (text: string) => boolean {
  const p = Array.from(pattern.replace(/\*+/g, '*').toLowerCase());
  return (text) => wildcardMatches(p, Array.from(text.toLowerCase()));
}

function wildcardMatches(p: string[], s: string[]): boolean {
  let si = 0;
  let pi = 0;
  let star = -1; // index in p of the last `*` seen
  let resume = 0; // index in s where that `*` 's run currently ends
  while (si < s.length) {
    if (pi < p.length && p[pi] !== '*' && p[pi] === s[si]) {
      si++;
      pi++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      resume = si;
    } else if (star >= 0) {
      pi = star + 1;
      si = ++resume;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}
