#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* Same work as strings.ts on UTF-16 code units, to match the AssemblyScript string model: every string
   the AssemblyScript code makes (concatenations, split's parts and array, the upper-case copy) is
   allocated here too, and freed when the round is done with it. */
typedef struct { uint16_t *p; size_t n; } str;
static str mk(const char *c) { str s; s.n = strlen(c); s.p = malloc(2 * s.n + 2); for (size_t i = 0; i < s.n; i++) s.p[i] = (uint16_t)c[i]; return s; }
static str cat(str a, str b) { str s; s.n = a.n + b.n; s.p = malloc(2 * s.n + 2); memcpy(s.p, a.p, 2 * a.n); memcpy(s.p + a.n, b.p, 2 * b.n); return s; }
static long indexOf(str h, str nd) { for (size_t i = 0; i + nd.n <= h.n; i++) if (!memcmp(h.p + i, nd.p, 2 * nd.n)) return (long)i; return -1; }
static long lastIndexOf(str h, str nd) { for (long i = (long)(h.n - nd.n); i >= 0; i--) if (!memcmp(h.p + i, nd.p, 2 * nd.n)) return i; return -1; }
int main(void) {
  const char *w[] = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"};
  str words[8]; for (int i = 0; i < 8; i++) words[i] = mk(w[i]);
  str sp = mk(" "), gamma = mk("gamma"), tz = mk("theta zeta"), AL = mk("ALPHA");
  uint32_t check = 0;
  for (int r = 0; r < 5000; r++) {
    str s = mk("");
    for (int i = 0; i < 200; i++) { str t = cat(words[(i * 7 + r) & 7], sp); str u = cat(s, t); free(s.p); free(t.p); s = u; }
    /* split: like String#split, each part a new string in an array that grows by doubling */
    size_t start = 0, np = 0, cap = 8;
    str *parts = malloc(cap * sizeof(str));
    for (size_t i = 0; i <= s.n; i++) {
      if (i == s.n || s.p[i] == ' ') {
        str part; part.n = i - start; part.p = malloc(2 * part.n + 2); memcpy(part.p, s.p + start, 2 * part.n);
        if (np == cap) parts = realloc(parts, (cap *= 2) * sizeof(str));
        parts[np++] = part;
        start = i + 1;
      }
    }
    for (size_t i = 0; i < np; i++) {
      check += (uint32_t)parts[i].n;
      if (parts[i].n == gamma.n && !memcmp(parts[i].p, gamma.p, 2 * gamma.n)) check += 3;
    }
    for (size_t i = 0; i < np; i++) free(parts[i].p);
    free(parts);
    str up; up.n = s.n; up.p = malloc(2 * s.n + 2);
    for (size_t i = 0; i < s.n; i++) up.p[i] = (uint16_t)toupper(s.p[i]);
    check += (uint32_t)indexOf(s, tz) + (uint32_t)lastIndexOf(up, AL);
    free(up.p); free(s.p);
  }
  printf("strings %u\n", check);
  return 0;
}
