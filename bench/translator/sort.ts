// Sorting: an in-place quicksort (median of three, insertion sort for short runs) of 1M i32.
function insertion(a: usize, lo: i32, hi: i32): void {
  for (let i = lo + 1; i <= hi; i++) {
    const v = load<i32>(a + (<usize>i << 2));
    let j = i - 1;
    while (j >= lo && load<i32>(a + (<usize>j << 2)) > v) {
      store<i32>(a + (<usize>(j + 1) << 2), load<i32>(a + (<usize>j << 2)));
      j--;
    }
    store<i32>(a + (<usize>(j + 1) << 2), v);
  }
}
function quicksort(a: usize, lo: i32, hi: i32): void {
  while (hi - lo > 16) {
    const mid = lo + ((hi - lo) >> 1);
    let x = load<i32>(a + (<usize>lo << 2)), y = load<i32>(a + (<usize>mid << 2)), z = load<i32>(a + (<usize>hi << 2));
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : (x < z ? x : y < z ? z : y);
    let i = lo, j = hi;
    while (i <= j) {
      while (load<i32>(a + (<usize>i << 2)) < pivot) i++;
      while (load<i32>(a + (<usize>j << 2)) > pivot) j--;
      if (i <= j) {
        const t = load<i32>(a + (<usize>i << 2));
        store<i32>(a + (<usize>i << 2), load<i32>(a + (<usize>j << 2)));
        store<i32>(a + (<usize>j << 2), t);
        i++; j--;
      }
    }
    if (j - lo < hi - i) { quicksort(a, lo, j); lo = i; } else { quicksort(a, i, hi); hi = j; }
  }
  insertion(a, lo, hi);
}
export function main(): void {
  const n = 1 << 20;
  const a = heap.alloc(<usize>n << 2);
  let check: u32 = 0;
  for (let r = 0; r < 3; r++) {
    let s: u32 = 12345 + <u32>r;
    for (let i = 0; i < n; i++) { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; store<i32>(a + (<usize>i << 2), <i32>s); }
    quicksort(a, 0, n - 1);
    for (let i = 0; i < n; i += 4096) check = check * 31 + <u32>load<i32>(a + (<usize>i << 2));
  }
  trace("sort", 1, <f64>check);
}
