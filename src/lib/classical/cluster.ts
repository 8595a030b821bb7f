/**
 * Groups matches that belong to the same copy: two matches are linked when both their ends lie
 * within `radius` of each other, either as (a1~a2, b1~b2) or swapped (a1~b2, b1~a2), since a
 * match has no inherent direction. A union-find with a parity bit records the swaps, so every
 * cluster comes out with its matches oriented the same way (all `a` ends on one region).
 */
import type { Matches } from './match';

export interface MatchCluster {
  /** Indices into the matches. */
  members: number[];
  /** Per member: 1 when its a/b ends must be swapped to agree with the cluster. */
  swapped: Uint8Array;
}

export function clusterMatches(m: Matches, radius: number): MatchCluster[] {
  const n = m.count;
  const parent = new Int32Array(n);
  const parity = new Uint8Array(n); // parity relative to parent
  for (let i = 0; i < n; i++) parent[i] = i;
  const find = (i: number): [number, number] => {
    let p = 0;
    let r = i;
    while (parent[r] !== r) {
      p ^= parity[r];
      r = parent[r];
    }
    // Path compression, keeping parities relative to the new parent (the root).
    let cur = i;
    let curP = p;
    while (parent[cur] !== r && parent[cur] !== cur) {
      const next = parent[cur];
      const nextP = curP ^ parity[cur];
      parent[cur] = r;
      parity[cur] = curP;
      cur = next;
      curP = nextP;
    }
    return [r, p];
  };
  const r2 = radius * radius;
  const near = (x1: number, y1: number, x2: number, y2: number) => (x1 - x2) ** 2 + (y1 - y2) ** 2 <= r2;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let rel: number;
      if (near(m.ax[i], m.ay[i], m.ax[j], m.ay[j]) && near(m.bx[i], m.by[i], m.bx[j], m.by[j])) rel = 0;
      else if (near(m.ax[i], m.ay[i], m.bx[j], m.by[j]) && near(m.bx[i], m.by[i], m.ax[j], m.ay[j])) rel = 1;
      else continue;
      const [ri, pi] = find(i);
      const [rj, pj] = find(j);
      if (ri === rj) continue; // a contradictory swap inside a cluster is left to RANSAC
      parent[rj] = ri;
      parity[rj] = pi ^ pj ^ rel;
    }
  }
  const groups = new Map<number, { members: number[]; swaps: number[] }>();
  for (let i = 0; i < n; i++) {
    const [r, p] = find(i);
    let g = groups.get(r);
    if (!g) groups.set(r, (g = { members: [], swaps: [] }));
    g.members.push(i);
    g.swaps.push(p);
  }
  return [...groups.values()]
    .map((g) => ({ members: g.members, swapped: Uint8Array.from(g.swaps) }))
    .sort((a, b) => b.members.length - a.members.length);
}
