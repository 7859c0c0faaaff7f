#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(void) {
  const size_t n = 1 << 20;
  uint8_t *a = calloc(n, 1), *b = calloc(n, 1);
  for (size_t i = 0; i < n; i++) a[i] = (uint8_t)i;
  uint32_t check = 0;
  size_t size = 1;
  for (uint32_t r = 0; r < 1000000; r++) {
    size = (size * 1103515245 + 12345) & 0xffff;
    size_t off = ((size_t)r * 4099) & (n - 0x10000 - 1);
    memmove(b + off, a + off + (r & 7), size);
    memset(a + off + 3, (uint8_t)r, size >> 1);
    check += b[off + (size >> 1)] + a[off + 5];
  }
  printf("memops %u\n", check);
  return 0;
}
