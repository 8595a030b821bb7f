import { ConfigError } from '../errors';

/**
 * HDBSCAN (Campello, Moulavi & Sander 2013) as scikit-learn's `sklearn.cluster.HDBSCAN` computes it
 * with metric 'precomputed'/'euclidean', cluster_selection_method 'eom', allow_single_cluster false,
 * cluster_selection_epsilon 0: core distances (the min_samples-th nearest neighbour, the point itself
 * counted), mutual reachability, a minimum spanning tree (Prim, dense: O(n^2), fine for the 33x33 =
 * 1,089 tokens of a 462 px image), the single-linkage tree, the condensed tree (min_cluster_size),
 * stabilities, excess-of-mass selection (the root excluded) and labels (-1 = noise).
 * Written here because the npm packages checked (hdbscan-ts 1.0.17) do not compute the condensed
 * tree's stability as defined (sum of (lambda_p - lambda_birth) over points).
 */
export interface HdbscanOptions {
  minClusterSize: number;
  /** Default: minClusterSize (as scikit-learn). */
  minSamples?: number;
}

export interface HdbscanResult {
  /** Cluster per point, 0-based in the order of the selected condensed-tree nodes; -1 = noise. */
  labels: Int32Array;
  /** Number of clusters. */
  clusters: number;
  /** Stability of each selected cluster (same order as the labels). */
  stability: number[];
}

/** One row of the condensed tree (sklearn's condensed_tree_). */
interface CondensedRow {
  parent: number;
  child: number;
  lambda: number;
  size: number;
}

/** Euclidean distances of n points of dimension d (row-major) as a dense n x n matrix. */
export function euclideanDistances(points: ArrayLike<number>, n: number, d: number): Float64Array {
  const dist = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) {
        const t = points[i * d + k] - points[j * d + k];
        s += t * t;
      }
      dist[i * n + j] = dist[j * n + i] = Math.sqrt(s);
    }
  }
  return dist;
}

/** HDBSCAN of points (n x d, row-major), Euclidean. */
export function hdbscan(points: ArrayLike<number>, n: number, d: number, opts: HdbscanOptions): HdbscanResult {
  return hdbscanFromDistances(euclideanDistances(points, n, d), n, opts);
}

/** HDBSCAN over a precomputed symmetric n x n distance matrix. */
export function hdbscanFromDistances(dist: ArrayLike<number>, n: number, opts: HdbscanOptions): HdbscanResult {
  const minClusterSize = opts.minClusterSize;
  const minSamples = opts.minSamples ?? minClusterSize;
  if (!Number.isInteger(minClusterSize) || minClusterSize < 2) throw new ConfigError(`HDBSCAN minClusterSize must be an integer >= 2, got ${minClusterSize}`);
  if (!Number.isInteger(minSamples) || minSamples < 1) throw new ConfigError(`HDBSCAN minSamples must be an integer >= 1, got ${minSamples}`);
  if (n < 2) return { labels: new Int32Array(n).fill(-1), clusters: 0, stability: [] };
  const core = coreDistances(dist, n, Math.min(minSamples, n));
  const mst = primMst(dist, core, n);
  const tree = condenseTree(singleLinkage(mst, n), n, minClusterSize);
  return selectClusters(tree, n);
}

/** Distance to the k-th nearest point, the point itself being the first (distance 0). */
function coreDistances(dist: ArrayLike<number>, n: number, k: number): Float64Array {
  const core = new Float64Array(n);
  const row = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) row[j] = i === j ? 0 : dist[i * n + j];
    core[i] = row.slice().sort()[k - 1];
  }
  return core;
}

/** Minimum spanning tree of the mutual reachability graph: n-1 edges [a, b, weight], sorted by weight (stable). */
function primMst(dist: ArrayLike<number>, core: Float64Array, n: number): [number, number, number][] {
  const inTree = new Uint8Array(n);
  const best = new Float64Array(n).fill(Infinity);
  const from = new Int32Array(n).fill(-1);
  const edges: [number, number, number][] = [];
  let current = 0;
  inTree[0] = 1;
  for (let step = 1; step < n; step++) {
    let next = -1;
    for (let j = 0; j < n; j++) {
      if (inTree[j]) continue;
      const mr = Math.max(core[current], core[j], dist[current * n + j]);
      if (mr < best[j]) (best[j] = mr), (from[j] = current);
      if (next < 0 || best[j] < best[next]) next = j;
    }
    edges.push([from[next], next, best[next]]);
    inTree[next] = 1;
    current = next;
  }
  // a stable sort by weight, as scikit-learn's mergesort
  return edges.map((e, i) => [e, i] as const).sort((a, b) => a[0][2] - b[0][2] || a[1] - b[1]).map(([e]) => e);
}

/** Single-linkage dendrogram in scipy's layout: row i merges nodes [left, right] at `dist` into node n + i of `size`. */
interface Merge {
  left: number;
  right: number;
  dist: number;
  size: number;
}

function singleLinkage(edges: [number, number, number][], n: number): Merge[] {
  const parent = new Int32Array(2 * n - 1).fill(-1);
  const size = new Int32Array(2 * n - 1).fill(1);
  const find = (x: number): number => {
    let r = x;
    while (parent[r] !== -1) r = parent[r];
    while (parent[x] !== -1 && parent[x] !== r) {
      const up = parent[x];
      parent[x] = r;
      x = up;
    }
    return r;
  };
  return edges.map(([a, b, w], i) => {
    const ra = find(a);
    const rb = find(b);
    const node = n + i;
    parent[ra] = parent[rb] = node;
    size[node] = size[ra] + size[rb];
    return { left: ra, right: rb, dist: w, size: size[node] };
  });
}

/** Nodes of the subtree under `root` in breadth-first order (scipy/sklearn bfs_from_hierarchy). */
function bfs(merges: Merge[], root: number, n: number): number[] {
  const out: number[] = [];
  let level = [root];
  while (level.length) {
    out.push(...level);
    level = level.filter((x) => x >= n).flatMap((x) => [merges[x - n].left, merges[x - n].right]);
  }
  return out;
}

/**
 * sklearn `_condense_tree`: walk the dendrogram from the root; a split where both sides have at least
 * minClusterSize points makes two new clusters, otherwise the small side's points fall out of the
 * cluster at that lambda (= 1 / distance) and the large side keeps the cluster's label.
 */
function condenseTree(merges: Merge[], n: number, minClusterSize: number): CondensedRow[] {
  const root = 2 * n - 2;
  const relabel = new Int32Array(2 * n - 1);
  const ignore = new Uint8Array(2 * n - 1);
  relabel[root] = n;
  let nextLabel = n + 1;
  const rows: CondensedRow[] = [];
  const countOf = (x: number) => (x >= n ? merges[x - n].size : 1);
  const fallOut = (side: number, parent: number, lambda: number) => {
    for (const sub of bfs(merges, side, n)) {
      if (sub < n) rows.push({ parent, child: sub, lambda, size: 1 });
      ignore[sub] = 1;
    }
  };
  for (const node of bfs(merges, root, n)) {
    if (ignore[node] || node < n) continue;
    const { left, right, dist } = merges[node - n];
    const lambda = dist > 0 ? 1 / dist : Infinity;
    const lc = countOf(left);
    const rc = countOf(right);
    const p = relabel[node];
    if (lc >= minClusterSize && rc >= minClusterSize) {
      relabel[left] = nextLabel++;
      rows.push({ parent: p, child: relabel[left], lambda, size: lc });
      relabel[right] = nextLabel++;
      rows.push({ parent: p, child: relabel[right], lambda, size: rc });
    } else if (lc < minClusterSize && rc < minClusterSize) {
      fallOut(left, p, lambda);
      fallOut(right, p, lambda);
    } else if (lc < minClusterSize) {
      relabel[right] = p;
      fallOut(left, p, lambda);
    } else {
      relabel[left] = p;
      fallOut(right, p, lambda);
    }
  }
  return rows;
}

/** sklearn `_compute_stability`: sum over a cluster's children of (lambda - lambda_birth(cluster)) * size. */
function stabilities(rows: CondensedRow[], n: number): Map<number, number> {
  const birth = new Map<number, number>([[n, 0]]);
  for (const r of rows) birth.set(r.child, r.lambda);
  const stab = new Map<number, number>();
  for (const r of rows) {
    if (!stab.has(r.parent)) stab.set(r.parent, 0);
    stab.set(r.parent, stab.get(r.parent)! + (r.lambda - birth.get(r.parent)!) * r.size);
  }
  return stab;
}

/** sklearn `_get_clusters` with EOM and without the root, then `_do_labelling`. */
function selectClusters(rows: CondensedRow[], n: number): HdbscanResult {
  const stab = stabilities(rows, n);
  const own = new Map(stab);
  const nodes = [...stab.keys()].sort((a, b) => b - a).filter((c) => c !== n);
  const children = new Map<number, number[]>();
  for (const r of rows) if (r.size > 1) children.set(r.parent, [...(children.get(r.parent) ?? []), r.child]);
  const isCluster = new Map<number, boolean>(nodes.map((c) => [c, true]));
  for (const node of nodes) {
    const kids = children.get(node) ?? [];
    const subtree = kids.reduce((s, c) => s + (stab.get(c) ?? 0), 0);
    if (subtree > stab.get(node)!) {
      isCluster.set(node, false);
      stab.set(node, subtree);
    } else {
      const queue = [...kids];
      while (queue.length) {
        const c = queue.shift()!;
        isCluster.set(c, false);
        queue.push(...(children.get(c) ?? []));
      }
    }
  }
  const selected = nodes.filter((c) => isCluster.get(c)).sort((a, b) => a - b);
  const index = new Map(selected.map((c, i) => [c, i]));
  const parentOf = new Map<number, number>();
  for (const r of rows) parentOf.set(r.child, r.parent);
  const labels = new Int32Array(n).fill(-1);
  for (let p = 0; p < n; p++) {
    // the nearest selected ancestor, else noise
    let c = parentOf.get(p);
    while (c !== undefined && !index.has(c)) c = parentOf.get(c);
    if (c !== undefined) labels[p] = index.get(c)!;
  }
  return { labels, clusters: selected.length, stability: selected.map((c) => own.get(c)!) };
}
