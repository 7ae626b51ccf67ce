/** Rounding and the median, as every bench record reports its figures. */
export const r2 = (x: number): number => Number(x.toFixed(2));
export const r3 = (x: number): number => Number(x.toFixed(3));

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};
