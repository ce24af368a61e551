/** A helper file of the projection module: part of its fingerprint. */
export function nextCount(previous) {
  return Number(previous?.state?.changes ?? 0) + 1;
}
