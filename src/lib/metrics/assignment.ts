/**
 * Maximum-weight assignment on a rectangular matrix, via the `linear-sum-assignment` package
 * (Jonker-Volgenant). The package is ESM-only and its types do not resolve under
 * moduleResolution node10 (tslab's), so it is loaded with require() and typed here once.
 */
interface LsaResult {
  /** For each row, the assigned column or -1. */
  rowAssignments: Float64Array;
  columnAssignments: Float64Array;
  gain: number;
}
type LsaFn = (input: number[][], options?: { maximaze?: boolean }) => LsaResult;

// eslint-disable-next-line @typescript-eslint/no-require-imports
const lsa = require('linear-sum-assignment') as { linearSumAssignment: LsaFn };

/** Row -> column pairs maximising the total weight; min(rows, cols) pairs. */
export function maxWeightAssignment(weights: number[][]): Array<[number, number]> {
  if (weights.length === 0 || weights[0].length === 0) return [];
  const { rowAssignments } = lsa.linearSumAssignment(weights, { maximaze: true });
  const pairs: Array<[number, number]> = [];
  rowAssignments.forEach((col, row) => {
    if (col >= 0) pairs.push([row, col]);
  });
  return pairs;
}
