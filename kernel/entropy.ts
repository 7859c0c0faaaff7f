// Entropy pool: bytes from hardware sources (drivers/virtio/rng.ts feeds it through
// drivers/entropy.ts) mixed into 256 bits of state, and 64-bit seeds drawn from it (kernel/host.ts's
// env.seed, which seeds a guest's Math.random). Lives in kernel/ so the kernel's own users (host.ts)
// need not import drivers/ (imports point down).
//
// Not a cryptographic generator: mixing and output use splitmix64 steps (after: Steele, Lea,
// Flood, "Fast Splittable Pseudorandom Number Generators", OOPSLA 2014), good enough to make
// seeds unpredictable when real entropy was added, never to derive keys from.
//
//   pool: 4 x u64 lanes   byte i of input is xored into lane (i / 8) % 4 at byte position i % 8;
//                         after each 32-byte block every lane passes through splitmix64's finaliser.

@inline const LANES: i32 = 4;
const pool = memory.data(LANES * 8, 8);
/** Bytes of hardware entropy mixed in so far (saturating). */
let credited: u32 = 0;
let draws: u64 = 0;

@inline function mix64(z: u64): u64 {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  return z ^ (z >> 31);
}

function stir(): void {
  let carry: u64 = 0x9e3779b97f4a7c15;
  for (let i = 0; i < LANES; i++) {
    const at = pool + <usize>i * 8;
    carry = mix64(load<u64>(at) + carry);
    store<u64>(at, carry);
  }
}

/** Mixes `len` bytes at `ptr` into the pool and credits them as entropy. */
export function entropyAdd(ptr: usize, len: u32): void {
  for (let i: u32 = 0; i < len; i++) {
    const at = pool + <usize>(((i >> 3) & (LANES - 1)) * 8 + (i & 7));
    store<u8>(at, load<u8>(at) ^ load<u8>(ptr + <usize>i));
    if ((i & 31) == 31) stir();
  }
  stir();
  credited = credited + len < credited ? u32.MAX_VALUE : credited + len;
}

/** Bytes of entropy credited so far (0: seeds are predictable). */
export function entropyCredited(): u32 {
  return credited;
}

/** A 64-bit seed: changes on every call; unpredictable once entropyCredited() >= 8. */
export function entropySeed64(): u64 {
  draws++;
  let v = mix64(draws);
  for (let i = 0; i < LANES; i++) v = mix64(v ^ load<u64>(pool + <usize>i * 8));
  // Feed the draw back so the next seed differs even if no new entropy arrives.
  store<u64>(pool, load<u64>(pool) ^ v);
  stir();
  return v;
}
