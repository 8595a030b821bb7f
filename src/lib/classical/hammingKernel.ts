/**
 * Brute-force Hamming matching of binary descriptors in WebAssembly: every (query, candidate) pair
 * spatially at least minDistance apart whose distance is within the cap, in query-then-candidate
 * order. It is most of the keypoint matching's time (3,000 ORB keypoints and 3,000 mirrored ones:
 * 13.5 million pairs per image), and wasm's 64-bit popcount counts a pair's 256 bits in four
 * instructions where JavaScript needs table reads per 16 bits. match.ts pushes the pairs into its
 * k-nearest lists in the same order its JavaScript loop (the fallback) would, so both give the
 * same matches.
 *
 * Assembled by wabt from the text below on first use (prepareHammingKernel; no binary ships with
 * sifd), in its own memory.
 */
import { assembleWat, wasmApi } from '../util/wasm';

/**
 * pairs(q, qxy, i0, i1, c, cxy, cCount, self, minDist2, cap, words64, out) -> pairs written.
 * q, c: descriptors (words64 x 8 bytes each); qxy, cxy: positions (f32 x, y); out: (i, j, d) i32
 * triples for queries i0 <= i < i1 against candidates j (j > i with `self`). Positions are compared
 * in f64, as JavaScript does with its Float32Array values.
 */
const WAT = `
(module
  (memory (export "memory") 1)
  (func (export "pairs") (param $q i32) (param $qxy i32) (param $i0 i32) (param $i1 i32)
    (param $c i32) (param $cxy i32) (param $cCount i32) (param $self i32) (param $minDist2 f64)
    (param $cap i32) (param $words64 i32) (param $out i32) (result i32)
    (local $i i32) (local $j i32) (local $qp i32) (local $cp i32) (local $w i32) (local $d i32)
    (local $xi f64) (local $yi f64) (local $dx f64) (local $dy f64) (local $n i32) (local $rowBytes i32)
    (local.set $rowBytes (i32.shl (local.get $words64) (i32.const 3)))
    (local.set $i (local.get $i0))
    (block $rowsDone (loop $rows
      (br_if $rowsDone (i32.ge_s (local.get $i) (local.get $i1)))
      (local.set $xi (f64.promote_f32 (f32.load (i32.add (local.get $qxy) (i32.shl (local.get $i) (i32.const 3))))))
      (local.set $yi (f64.promote_f32 (f32.load offset=4 (i32.add (local.get $qxy) (i32.shl (local.get $i) (i32.const 3))))))
      (local.set $qp (i32.add (local.get $q) (i32.mul (local.get $i) (local.get $rowBytes))))
      (local.set $j (select (i32.add (local.get $i) (i32.const 1)) (i32.const 0) (local.get $self)))
      (block $colsDone (loop $cols
        (br_if $colsDone (i32.ge_s (local.get $j) (local.get $cCount)))
        (block $next
          (local.set $dx (f64.sub (f64.promote_f32 (f32.load (i32.add (local.get $cxy) (i32.shl (local.get $j) (i32.const 3))))) (local.get $xi)))
          (local.set $dy (f64.sub (f64.promote_f32 (f32.load offset=4 (i32.add (local.get $cxy) (i32.shl (local.get $j) (i32.const 3))))) (local.get $yi)))
          (br_if $next (f64.lt (f64.add (f64.mul (local.get $dx) (local.get $dx)) (f64.mul (local.get $dy) (local.get $dy))) (local.get $minDist2)))
          (local.set $cp (i32.add (local.get $c) (i32.mul (local.get $j) (local.get $rowBytes))))
          (local.set $d (i32.const 0))
          (local.set $w (i32.const 0))
          ;; 128 bits at a time, stopping once past the cap
          (loop $bits
            (local.set $d (i32.add (local.get $d) (i32.wrap_i64 (i64.add
              (i64.popcnt (i64.xor (i64.load (i32.add (local.get $qp) (i32.shl (local.get $w) (i32.const 3))))
                                   (i64.load (i32.add (local.get $cp) (i32.shl (local.get $w) (i32.const 3))))))
              (i64.popcnt (i64.xor (i64.load offset=8 (i32.add (local.get $qp) (i32.shl (local.get $w) (i32.const 3))))
                                   (i64.load offset=8 (i32.add (local.get $cp) (i32.shl (local.get $w) (i32.const 3))))))))))
            (br_if $next (i32.gt_s (local.get $d) (local.get $cap)))
            (br_if $bits (i32.lt_s (local.tee $w (i32.add (local.get $w) (i32.const 2))) (local.get $words64))))
          (i32.store (local.get $out) (local.get $i))
          (i32.store offset=4 (local.get $out) (local.get $j))
          (i32.store offset=8 (local.get $out) (local.get $d))
          (local.set $out (i32.add (local.get $out) (i32.const 12)))
          (local.set $n (i32.add (local.get $n) (i32.const 1))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $cols)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $rows)))
    (local.get $n)))
`;

interface HammingExports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  pairs(q: number, qxy: number, i0: number, i1: number, c: number, cxy: number, cCount: number, self: number, minDist2: number, cap: number, words64: number, out: number): number;
}

/** Binary descriptors with their positions (match.ts's Keypoints, the fields used here). */
export interface BinaryDescriptors {
  count: number;
  x: Float32Array;
  y: Float32Array;
  desc: Uint32Array;
  words: number;
}

let kernel: HammingExports | undefined;
let preparing: Promise<string | undefined> | undefined;
let unavailable: string | undefined;
let enabled = true;

/** Output triples per kernel call: the rows of one call are sized so that their pairs always fit. */
const OUT_PAIRS = 1 << 18;
const PAGE = 65536;
/** An i32 cap above any descriptor's bit count (an infinite cap would wrap to 0). */
const MAX_CAP = 1 << 30;

/**
 * Assembles the kernel once. Resolves to undefined when it is ready, else to the reason it is not
 * (match.ts then keeps its JavaScript loop, with the same results).
 */
export function prepareHammingKernel(): Promise<string | undefined> {
  preparing ??= (async () => {
    try {
      kernel = new wasmApi.Instance(await assembleWat('sifd-hamming.wat', WAT), {}).exports as unknown as HammingExports;
      return (unavailable = undefined);
    } catch (err) {
      return (unavailable = `sifd's Hamming kernel did not assemble: ${err instanceof Error ? err.message : String(err)}`);
    }
  })();
  return preparing;
}

/** Turns the kernel off (tests of the fallback, A/B benchmarks); returns the previous setting. */
export function setHammingKernelEnabled(on: boolean): boolean {
  const prev = enabled;
  enabled = on;
  return prev;
}

/** Why prepareHammingKernel failed (undefined when it succeeded or never ran). */
export function hammingKernelUnavailable(): string | undefined {
  return unavailable;
}

/** Whether hammingPairs can run for descriptors of this many 32-bit words (the kernel reads 128 bits at a time). */
export function hammingKernelReady(words: number): boolean {
  return enabled && kernel !== undefined && words > 0 && words % 4 === 0;
}

/**
 * Calls visit(i, j, d) for every pair of query i and candidate j (j > i with `self`) at squared
 * distance >= minDist2 whose Hamming distance d is at most cap, i ascending, then j ascending.
 * Only when hammingKernelReady(q.words).
 */
export function hammingPairs(q: BinaryDescriptors, c: BinaryDescriptors, self: boolean, minDist2: number, cap: number, visit: (i: number, j: number, d: number) => void): void {
  const k = kernel!;
  const rowBytes = q.words * 4;
  const qDesc = 0;
  const qXy = qDesc + q.count * rowBytes;
  const cDesc = self ? qDesc : qXy + q.count * 8;
  const cXy = self ? qXy : cDesc + c.count * rowBytes;
  const out = (self ? qXy + q.count * 8 : cXy + c.count * 8) + 16;
  const need = out + OUT_PAIRS * 12;
  if (k.memory.buffer.byteLength < need) k.memory.grow(Math.ceil((need - k.memory.buffer.byteLength) / PAGE));
  const heap = k.memory.buffer;
  const put = (d: BinaryDescriptors, descAt: number, xyAt: number) => {
    new Uint32Array(heap, descAt, d.count * d.words).set(d.desc.subarray(0, d.count * d.words));
    const xy = new Float32Array(heap, xyAt, d.count * 2);
    for (let i = 0; i < d.count; i++) {
      xy[2 * i] = d.x[i];
      xy[2 * i + 1] = d.y[i];
    }
  };
  put(q, qDesc, qXy);
  if (!self) put(c, cDesc, cXy);
  const triples = new Int32Array(heap, out, OUT_PAIRS * 3);
  const rowsPerCall = Math.max(1, Math.floor(OUT_PAIRS / Math.max(1, c.count)));
  for (let i0 = 0; i0 < q.count; i0 += rowsPerCall) {
    const i1 = Math.min(q.count, i0 + rowsPerCall);
    const n = k.pairs(qDesc, qXy, i0, i1, cDesc, cXy, c.count, self ? 1 : 0, minDist2, Math.floor(Math.min(cap, MAX_CAP)), q.words / 2, out);
    for (let t = 0; t < 3 * n; t += 3) visit(triples[t], triples[t + 1], triples[t + 2]);
  }
}
