// Score's resource quantities (Kubernetes notation) as the numbers the Docker Engine API takes.

const MEMORY_UNITS: Record<string, number> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

const MEMORY_PATTERN = /^(\d+(?:\.\d+)?|\.\d+)(?:e(\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E))?$/;
const CPU_PATTERN = /^(\d+(?:\.\d+)?|\.\d+)(m)?$/;

/** Bytes for a memory quantity such as "128Mi", "1G", "1.5Gi" or "1e9"; null if it is not one (or is 0). */
export function parseMemory(quantity: string): number | null {
  const match = MEMORY_PATTERN.exec(quantity.trim());
  if (!match) return null;
  const [, number = '', exponent, unit = ''] = match;
  const factor = exponent !== undefined ? 10 ** Number(exponent) : (MEMORY_UNITS[unit] ?? 1);
  const bytes = Math.round(Number(number) * factor);
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : null;
}

/** Billionths of a CPU for a CPU quantity such as "500m", "1" or "0.25"; null if it is not one (or is 0). */
export function parseNanoCpus(quantity: string): number | null {
  const match = CPU_PATTERN.exec(quantity.trim());
  if (!match) return null;
  const [, number = '', milli] = match;
  const nanos = Math.round(Number(number) * (milli ? 1e6 : 1e9));
  return Number.isSafeInteger(nanos) && nanos > 0 ? nanos : null;
}

/** Docker's relative CPU weight for a CPU request, as Kubernetes maps requests to cgroup shares. */
export function cpuShares(nanoCpus: number): number {
  return Math.max(2, Math.round((nanoCpus / 1e9) * 1024));
}
