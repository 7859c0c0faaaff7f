#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
static void insertion(int32_t *a, int lo, int hi) {
  for (int i = lo + 1; i <= hi; i++) {
    int32_t v = a[i]; int j = i - 1;
    while (j >= lo && a[j] > v) { a[j + 1] = a[j]; j--; }
    a[j + 1] = v;
  }
}
static void quicksort(int32_t *a, int lo, int hi) {
  while (hi - lo > 16) {
    int mid = lo + ((hi - lo) >> 1);
    int32_t x = a[lo], y = a[mid], z = a[hi];
    int32_t pivot = x < y ? (y < z ? y : x < z ? z : x) : (x < z ? x : y < z ? z : y);
    int i = lo, j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) { int32_t t = a[i]; a[i] = a[j]; a[j] = t; i++; j--; }
    }
    if (j - lo < hi - i) { quicksort(a, lo, j); lo = i; } else { quicksort(a, i, hi); hi = j; }
  }
  insertion(a, lo, hi);
}
int main(void) {
  const int n = 1 << 20;
  int32_t *a = malloc(sizeof(int32_t) * n);
  uint32_t check = 0;
  for (uint32_t r = 0; r < 3; r++) {
    uint32_t s = 12345 + r;
    for (int i = 0; i < n; i++) { s ^= s << 13; s ^= s >> 17; s ^= s << 5; a[i] = (int32_t)s; }
    quicksort(a, 0, n - 1);
    for (int i = 0; i < n; i += 4096) check = check * 31 + (uint32_t)a[i];
  }
  printf("sort %u\n", check);
  return 0;
}
