/*
 * UDP echo load generator for `npm run bench -- udp` (tools/bench/udp.ts), run on the host side
 * of the tap, inside the benchmark's network namespace.
 *
 *   udp_load ADDR PORT PAYLOAD_BYTES WINDOW SECONDS WARMUP_SECONDS [RATE_PPS]
 *
 * Closed loop (RATE_PPS absent or 0): keeps WINDOW datagrams outstanding; every echo that comes
 * back releases one more. WINDOW 1 measures unloaded round-trip time, a larger window the
 * saturated rate. When nothing comes back for LOSS_TIMEOUT_NS, whatever is outstanding is
 * counted lost and the window is refilled (echoes of those datagrams arriving later are ignored).
 * Open loop (RATE_PPS > 0): sends at that fixed offered rate whatever comes back.
 *
 * Each datagram carries its sequence number and send time (CLOCK_MONOTONIC) in its first 16
 * bytes, so round-trip times need no table; the rest is a pattern checked on the way back.
 * Counts and percentiles cover the datagrams sent after the warm-up and before the end (their
 * echoes are awaited up to LOSS_TIMEOUT_NS past the end); pps = those echoes / SECONDS. Printed
 * as one JSON line with the client's own CPU use (cores busy over the whole run), to tell
 * whether it is the bottleneck.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LOSS_TIMEOUT_NS 200000000ull /* 200 ms without any echo: outstanding datagrams are lost */
#define HEADER_BYTES 16

static uint64_t nowNs(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmpU32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted samples, in microseconds. */
static double percentileUs(const uint32_t *sorted, size_t n, double p) {
  if (n == 0) return -1;
  size_t rank = (size_t)(p / 100.0 * (double)n + 0.999999);
  if (rank < 1) rank = 1;
  if (rank > n) rank = n;
  return sorted[rank - 1] / 1000.0;
}

int main(int argc, char **argv) {
  if (argc < 7) {
    fprintf(stderr, "usage: %s ADDR PORT PAYLOAD_BYTES WINDOW SECONDS WARMUP_SECONDS [RATE_PPS]\n", argv[0]);
    return 2;
  }
  const char *addrText = argv[1];
  int port = atoi(argv[2]);
  size_t payload = (size_t)atoi(argv[3]);
  long window = atol(argv[4]);
  double seconds = atof(argv[5]), warmup = atof(argv[6]);
  double rate = argc > 7 ? atof(argv[7]) : 0;
  if (payload < HEADER_BYTES || payload > 65000 || window < 1) { fprintf(stderr, "bad arguments\n"); return 2; }

  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) { perror("socket"); return 1; }
  int buf = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
  struct sockaddr_in dst = {0};
  dst.sin_family = AF_INET;
  dst.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, addrText, &dst.sin_addr) != 1) { fprintf(stderr, "bad address %s\n", addrText); return 2; }
  if (connect(fd, (struct sockaddr *)&dst, sizeof dst) < 0) { perror("connect"); return 1; }
  fcntl(fd, F_SETFL, O_NONBLOCK);

  unsigned char *tx = malloc(payload), *rx = malloc(65536);
  for (size_t i = HEADER_BYTES; i < payload; i++) tx[i] = (unsigned char)(i * 7 + 3);
  size_t cap = 1 << 20, nSamples = 0;
  uint32_t *samples = malloc(cap * sizeof *samples);

  uint64_t start = nowNs();
  uint64_t measureFrom = start + (uint64_t)(warmup * 1e9);
  uint64_t end = measureFrom + (uint64_t)(seconds * 1e9);
  uint64_t seq = 0, epochSeq = 0; /* echoes of datagrams before epochSeq no longer count */
  uint64_t sent = 0, received = 0, lost = 0, corrupt = 0, sendErrors = 0;
  long outstanding = 0;
  uint64_t lastEcho = start, nextSend = start;
  double interval = rate > 0 ? 1e9 / rate : 0;

  uint64_t drainUntil = end + LOSS_TIMEOUT_NS;
  for (;;) {
    uint64_t now = nowNs();
    /* after `end`, send nothing more and wait (at most LOSS_TIMEOUT_NS) for the echoes still
       on their way, so a datagram in flight at the end is not counted lost */
    int draining = now >= end;
    if (draining && (outstanding <= 0 || now >= drainUntil)) break;
    int measuring = now >= measureFrom;
    /* send: top up the window (closed loop) or catch up with the schedule (open loop) */
    while (!draining && (rate > 0 ? now >= nextSend : outstanding < window)) {
      memcpy(tx, &seq, 8);
      uint64_t t = nowNs();
      memcpy(tx + 8, &t, 8);
      if (send(fd, tx, payload, 0) < 0) {
        if (errno == EAGAIN || errno == ENOBUFS) { sendErrors++; break; }
        perror("send");
        return 1;
      }
      seq++;
      outstanding++;
      if (measuring) sent++;
      if (rate > 0) nextSend += (uint64_t)interval;
    }
    /* wait for echoes: up to 1 ms, or until the next scheduled send (ppoll: ns resolution,
       so pacing an open loop does not spin a core the guest's QEMU needs) */
    uint64_t waitNs = 1000000;
    if (rate > 0) {
      uint64_t t = nowNs();
      waitNs = nextSend > t ? (nextSend - t < waitNs ? nextSend - t : waitNs) : 0;
    }
    struct timespec wait = {0, (long)waitNs};
    struct pollfd pfd = {fd, POLLIN, 0};
    ppoll(&pfd, 1, &wait, NULL);
    for (;;) {
      ssize_t n = recv(fd, rx, 65536, 0);
      if (n < 0) break;
      uint64_t t = nowNs(), rseq, sentAt;
      memcpy(&rseq, rx, 8);
      memcpy(&sentAt, rx + 8, 8);
      lastEcho = t;
      if ((size_t)n != payload || memcmp(rx + HEADER_BYTES, tx + HEADER_BYTES, payload - HEADER_BYTES) != 0) {
        corrupt++;
        continue;
      }
      if (rseq < epochSeq) continue;
      outstanding--;
      if (sentAt >= measureFrom && sentAt < end) {
        received++;
        if (nSamples == cap) { cap *= 2; samples = realloc(samples, cap * sizeof *samples); }
        uint64_t rtt = t - sentAt;
        samples[nSamples++] = rtt > UINT32_MAX ? UINT32_MAX : (uint32_t)rtt;
      }
    }
    now = nowNs();
    if (rate == 0 && !draining && outstanding > 0 && now - lastEcho > LOSS_TIMEOUT_NS) {
      if (now >= measureFrom) lost += (uint64_t)outstanding;
      outstanding = 0;
      epochSeq = seq;
      lastEcho = now;
    }
  }
  /* open loop: whatever was sent in the window and never came back is lost */
  if (rate > 0) lost = sent > received ? sent - received : 0;
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double cpuSeconds = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  double wallSeconds = (nowNs() - start) / 1e9;
  qsort(samples, nSamples, sizeof *samples, cmpU32);
  printf("{\"payloadBytes\":%zu,\"window\":%ld,\"offeredPps\":%.0f,\"seconds\":%.3f,\"sent\":%llu,"
         "\"received\":%llu,\"lost\":%llu,\"corrupt\":%llu,\"sendErrors\":%llu,\"pps\":%.1f,"
         "\"clientCpuCores\":%.3f,\"rttUs\":{\"min\":%.1f,\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"max\":%.1f}}\n",
         payload, rate > 0 ? 0 : window, rate, seconds, (unsigned long long)sent,
         (unsigned long long)received, (unsigned long long)lost, (unsigned long long)corrupt,
         (unsigned long long)sendErrors, received / seconds, cpuSeconds / wallSeconds, percentileUs(samples, nSamples, 0),
         percentileUs(samples, nSamples, 50), percentileUs(samples, nSamples, 90),
         percentileUs(samples, nSamples, 99), percentileUs(samples, nSamples, 100));
  return 0;
}
