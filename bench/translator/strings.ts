// String handling: building, searching and comparing AssemblyScript strings (UTF-16), GC'd runtime.
export function main(): void {
  const words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"];
  let check: u32 = 0;
  for (let r = 0; r < 5000; r++) {
    let s = "";
    for (let i = 0; i < 200; i++) s += words[(i * 7 + r) & 7] + " ";
    const parts = s.split(" ");
    for (let i = 0; i < parts.length; i++) {
      check += <u32>parts[i].length;
      if (parts[i] == "gamma") check += 3;
    }
    check += <u32>s.indexOf("theta zeta") + <u32>s.toUpperCase().lastIndexOf("ALPHA");
  }
  trace("strings", 1, <f64>check);
}
