#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(void) {
  const int n = 1 << 16;
  uint8_t *buf = malloc(n);
  for (int i = 0; i < n; i++) buf[i] = (uint8_t)(i * 7 + 3);
  uint32_t check = 0;
  for (int r = 0; r < 40000; r++) {
    for (int off = 0; off + 1500 <= n; off += 1500) {
      uint64_t sum = 0;
      const uint8_t *p = buf + off;
      for (int i = 0; i < 1500; i += 4) { uint32_t w; memcpy(&w, p + i, 4); sum += w; }
      while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
      check += (uint32_t)(~sum & 0xffff);
    }
    buf[r & 0xffff] = (uint8_t)r;
  }
  printf("checksum %u\n", check);
  return 0;
}
