/**
 * Progress output for long host-side work: each stage prints its name, then its duration.
 */
export class Stages {
  private readonly t0 = performance.now();
  constructor(private readonly out: (s: string) => void = (s) => process.stderr.write(s + "\n")) {}

  async run<T>(name: string, work: () => T | Promise<T>): Promise<T> {
    const t = performance.now();
    const result = await work();
    this.out(`  ${name.padEnd(34)} ${(performance.now() - t).toFixed(0).padStart(6)} ms`);
    return result;
  }

  log(message: string): void {
    this.out(`  ${message}`);
  }

  totalMs(): number {
    return performance.now() - this.t0;
  }
}

export function kib(n: number): string {
  return `${(n / 1024).toFixed(1)} KiB`;
}
