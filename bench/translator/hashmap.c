#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define CAP (1u << 20)
int main(void) {
  uint32_t *keys = malloc(4 * CAP), *vals = malloc(4 * CAP);
  uint32_t check = 0;
  for (uint32_t r = 0; r < 16; r++) {
    memset(keys, 0, 4 * CAP);
    uint32_t s = 0x9e3779b9 + r;
    for (uint32_t i = 0; i < (CAP >> 1); i++) {
      s ^= s << 13; s ^= s >> 17; s ^= s << 5;
      uint32_t k = s | 1, h = (k * 0x9e3779b1u) >> 12;
      for (;;) {
        uint32_t cur = keys[h];
        if (cur == 0 || cur == k) { keys[h] = k; vals[h] = i; break; }
        h = (h + 1) & (CAP - 1);
      }
    }
    s = 0x9e3779b9 + r;
    for (uint32_t i = 0; i < (CAP >> 1); i++) {
      s ^= s << 13; s ^= s >> 17; s ^= s << 5;
      uint32_t k = (i & 1) ? s | 1 : (s | 1) ^ 0x80000000u, h = (k * 0x9e3779b1u) >> 12;
      for (;;) {
        uint32_t cur = keys[h];
        if (cur == k) { check += vals[h]; break; }
        if (cur == 0) { check += 1; break; }
        h = (h + 1) & (CAP - 1);
      }
    }
  }
  printf("hashmap %u\n", check);
  return 0;
}
