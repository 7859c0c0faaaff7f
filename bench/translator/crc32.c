#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
static uint32_t TABLE[256];
int main(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >> 1) : c >> 1;
    TABLE[i] = c;
  }
  const int n = 1 << 20;
  uint8_t *buf = malloc(n);
  for (int i = 0; i < n; i++) buf[i] = (uint8_t)(i * 131 + (i >> 8));
  uint32_t check = 0;
  for (uint32_t r = 0; r < 128; r++) {
    uint32_t crc = 0xffffffff;
    for (int i = 0; i < n; i++) crc = TABLE[(crc ^ buf[i]) & 0xff] ^ (crc >> 8);
    check ^= ~crc + r;
  }
  printf("crc32 %u\n", check);
  return 0;
}
