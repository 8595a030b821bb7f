/**
 * Groups matches that belong to the same copy: two matches are linked when both their ends lie
 * within `radius` of each other, either as (a1~a2, b1~b2) or swapped (a1~b2, b1~a2), since a
 * match has no inherent direction. A union-find with a parity bit records the swaps, so every
 * cluster comes out with its matches oriented the same way (all `a` ends on one region).
 */
import type { Matches } from './match';
import { hdbscanFromDistances } from '../cluster/hdbscan';

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

/**
 * Distance between two matches, direction-free: the larger of their two ends' distances, with the
 * second match taken as is or swapped, whichever is closer.
 */
function matchDistance(m: Matches, i: number, j: number): { d: number; swap: boolean } {
  const d = (x1: number, y1: number, x2: number, y2: number) => Math.hypot(x1 - x2, y1 - y2);
  const same = Math.max(d(m.ax[i], m.ay[i], m.ax[j], m.ay[j]), d(m.bx[i], m.by[i], m.bx[j], m.by[j]));
  const swapped = Math.max(d(m.ax[i], m.ay[i], m.bx[j], m.by[j]), d(m.bx[i], m.by[i], m.ax[j], m.ay[j]));
  return swapped < same ? { d: swapped, swap: true } : { d: same, swap: false };
}

/**
 * Matches grouped by HDBSCAN (cluster/hdbscan.ts) over the direction-free match distance, as the
 * competition's 2nd place grouped its SIFT matches: dense groups of matches linking the same two
 * regions, at any spacing, instead of chains within a fixed radius; isolated matches are noise.
 * Each cluster's matches are oriented like its densest member's. Above maxMatches (the distance
 * matrix is n^2), the radius clustering is used.
 */
export function clusterMatchesHdbscan(m: Matches, minClusterSize: number, radius: number, maxMatches = 3000): MatchCluster[] {
  const n = m.count;
  if (n > maxMatches) return clusterMatches(m, radius);
  if (n < minClusterSize) return [];
  const dist = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) dist[i * n + j] = dist[j * n + i] = matchDistance(m, i, j).d;
  }
  const { labels, clusters } = hdbscanFromDistances(dist, n, { minClusterSize, minSamples: Math.min(minClusterSize, 5) });
  const out: MatchCluster[] = [];
  for (let c = 0; c < clusters; c++) {
    const members: number[] = [];
    for (let i = 0; i < n; i++) if (labels[i] === c) members.push(i);
    // The reference: the member with the smallest summed distance to the others (the medoid).
    let ref = members[0];
    let bestSum = Infinity;
    for (const i of members) {
      let s = 0;
      for (const j of members) s += dist[i * n + j];
      if (s < bestSum) {
        bestSum = s;
        ref = i;
      }
    }
    out.push({ members, swapped: Uint8Array.from(members, (j) => (j !== ref && matchDistance(m, ref, j).swap ? 1 : 0)) });
  }
  return out.sort((a, b) => b.members.length - a.members.length);
}
