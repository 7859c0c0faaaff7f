// Entropy pool for drivers: the pool itself is the kernel's (kernel/entropy.ts: 256 bits of state,
// splitmix64 mixing, not cryptographic), so kernel/host.ts's env.seed uses what virtio-rng
// (virtio/rng.ts feedPool) mixed in without importing drivers/.

export { entropyAdd, entropyCredited, entropySeed64 } from "../kernel/entropy";
