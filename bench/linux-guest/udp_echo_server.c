/*
 * The Linux guest's UDP echo server (RFC 862) for `npm run bench -- udp`: the counterpart of
 * apps/udp-echo. One blocking socket on port 7, one recvfrom + one sendto per datagram (no
 * batching, like the unikernel's poll loop answers each datagram on its own). Built with
 * `gcc -static` and started as the last step of the initramfs's /init.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define ECHO_PORT 7

int main(void) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) { perror("socket"); return 1; }
  int buf = 1 << 20; /* as deep as the kernel allows: bursts from the load generator */
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons(ECHO_PORT);
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) { perror("bind"); return 1; }
  printf("udp-echo-server: listening on port %d\n", ECHO_PORT);
  fflush(stdout);
  static char data[65536];
  for (;;) {
    struct sockaddr_in peer;
    socklen_t peerLen = sizeof peer;
    ssize_t n = recvfrom(fd, data, sizeof data, 0, (struct sockaddr *)&peer, &peerLen);
    if (n < 0) continue;
    sendto(fd, data, (size_t)n, 0, (struct sockaddr *)&peer, peerLen);
  }
}
