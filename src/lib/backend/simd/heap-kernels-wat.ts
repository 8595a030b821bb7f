/**
 * WebAssembly text of sifd's SIMD versions of the memory-bound kernels of a training step's backward pass (see
 * ../kernels/ for the tfjs kernels that call them and their fallbacks): a bias gradient (Sum over leading axes,
 * float64 accumulators), strided row copies (Concat/SplitV), MaxPoolGrad and ResizeBilinearGrad. Each was a
 * JavaScript loop or a scalar C++ kernel costing 30-60 ms per bench-net step; vectorised over channels they run
 * at memory speed. Pointers and strides are byte offsets into tfjs-wasm's heap; every argument is an i32.
 */

/**
 * $sum_V(src, dst, rows, rowBytes): dst[0..4V) = sum over rows of src[r][0..4V), float64 accumulation.
 * The f32x4 rows are promoted in two halves (lanes 0-1 and 2-3) onto f64x2 accumulators.
 */
function sumBlock(V: number): string {
  const o: string[] = [];
  o.push(`(func $sum_${V} (param $p i32) (param $dst i32) (param $rows i32) (param $rowBytes i32)`);
  for (let v = 0; v < V; v++) o.push(`  (local $lo${v} v128) (local $hi${v} v128)`);
  o.push('  (local $x v128)');
  o.push('  (block $done (br_if $done (i32.eqz (local.get $rows)))');
  o.push('  (loop $l');
  for (let v = 0; v < V; v++) {
    o.push(`    (local.set $x (v128.load offset=${16 * v} align=4 (local.get $p)))`);
    o.push(`    (local.set $lo${v} (f64x2.add (local.get $lo${v}) (f64x2.promote_low_f32x4 (local.get $x))))`);
    o.push(`    (local.set $hi${v} (f64x2.add (local.get $hi${v}) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $x) (local.get $x)))))`);
  }
  o.push('    (local.set $p (i32.add (local.get $p) (local.get $rowBytes)))');
  o.push('    (br_if $l (local.tee $rows (i32.sub (local.get $rows) (i32.const 1))))))');
  for (let v = 0; v < V; v++) {
    o.push(`  (v128.store offset=${16 * v} align=4 (local.get $dst) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
    (f32x4.demote_f64x2_zero (local.get $lo${v})) (f32x4.demote_f64x2_zero (local.get $hi${v}))))`);
  }
  o.push(')');
  return o.join('\n');
}

const SUM_LEADING = `
;; dst[c] = sum over rows r of src[r * inner + c] (floats), float64 accumulators: 16 columns per pass, then 4, then 1.
(func (export "sumLeading") (param $src i32) (param $dst i32) (param $rows i32) (param $inner i32)
  (local $c i32) (local $rowBytes i32) (local $p i32) (local $r i32) (local $acc f64)
  (local.set $rowBytes (i32.shl (local.get $inner) (i32.const 2)))
  (block $d16 (loop $l16
    (br_if $d16 (i32.gt_u (i32.add (local.get $c) (i32.const 16)) (local.get $inner)))
    (call $sum_4 (i32.add (local.get $src) (i32.shl (local.get $c) (i32.const 2))) (i32.add (local.get $dst) (i32.shl (local.get $c) (i32.const 2)))
      (local.get $rows) (local.get $rowBytes))
    (local.set $c (i32.add (local.get $c) (i32.const 16))) (br $l16)))
  (block $d4 (loop $l4
    (br_if $d4 (i32.gt_u (i32.add (local.get $c) (i32.const 4)) (local.get $inner)))
    (call $sum_1 (i32.add (local.get $src) (i32.shl (local.get $c) (i32.const 2))) (i32.add (local.get $dst) (i32.shl (local.get $c) (i32.const 2)))
      (local.get $rows) (local.get $rowBytes))
    (local.set $c (i32.add (local.get $c) (i32.const 4))) (br $l4)))
  (block $d1 (loop $l1
    (br_if $d1 (i32.ge_u (local.get $c) (local.get $inner)))
    (local.set $acc (f64.const 0))
    (local.set $p (i32.add (local.get $src) (i32.shl (local.get $c) (i32.const 2))))
    (local.set $r (i32.const 0))
    (block $rd (loop $rl
      (br_if $rd (i32.ge_u (local.get $r) (local.get $rows)))
      (local.set $acc (f64.add (local.get $acc) (f64.promote_f32 (f32.load (local.get $p)))))
      (local.set $p (i32.add (local.get $p) (local.get $rowBytes)))
      (local.set $r (i32.add (local.get $r) (i32.const 1))) (br $rl)))
    (f32.store (i32.add (local.get $dst) (i32.shl (local.get $c) (i32.const 2))) (f32.demote_f64 (local.get $acc)))
    (local.set $c (i32.add (local.get $c) (i32.const 1))) (br $l1)))
)`;

const COPY_ROWS = `
;; rows copies of len bytes: dst + r*dstStride <- src + r*srcStride. v128 moves when len is a multiple of 16.
(func (export "copyRows") (param $dst i32) (param $dstStride i32) (param $src i32) (param $srcStride i32) (param $rows i32) (param $len i32)
  (local $r i32) (local $k i32)
  (block $done (loop $rl
    (br_if $done (i32.ge_u (local.get $r) (local.get $rows)))
    (if (i32.and (local.get $len) (i32.const 15))
      (then (memory.copy (local.get $dst) (local.get $src) (local.get $len)))
      (else
        (local.set $k (i32.const 0))
        (block $kd (loop $kl
          (br_if $kd (i32.ge_u (local.get $k) (local.get $len)))
          (v128.store align=4 (i32.add (local.get $dst) (local.get $k)) (v128.load align=4 (i32.add (local.get $src) (local.get $k))))
          (local.set $k (i32.add (local.get $k) (i32.const 16))) (br $kl)))))
    (local.set $dst (i32.add (local.get $dst) (local.get $dstStride)))
    (local.set $src (i32.add (local.get $src) (local.get $srcStride)))
    (local.set $r (i32.add (local.get $r) (i32.const 1))) (br $rl)))
)`;

/** One lane of the MaxPoolGrad scatter: dx[at] += g (at is an element index, -1 = no maximum in the window). */
function scatterLane(k: number): string {
  return `    (local.set $a (i32x4.extract_lane ${k} (local.get $at)))
    (if (i32.ge_s (local.get $a) (i32.const 0)) (then
      (local.set $q (i32.add (local.get $dx) (i32.shl (local.get $a) (i32.const 2))))
      (f32.store (local.get $q) (f32.add (f32.load (local.get $q)) (f32x4.extract_lane ${k} (local.get $g))))))`;
}

const MAX_POOL_GRAD = `
;; dx[first maximum of each window, in row-major window order] += dy, 4 channels at a time (c % 4 == 0).
;; fh/fw are the effective (dilated) window sizes, as tfjs's computePool2DInfo gives them.
(func (export "maxPoolGrad") (param $x i32) (param $dy i32) (param $dx i32) (param $n i32) (param $h i32) (param $w i32) (param $c i32)
  (param $ho i32) (param $wo i32) (param $fh i32) (param $fw i32) (param $sh i32) (param $sw i32) (param $dh i32) (param $dwl i32)
  (param $pt i32) (param $pl i32)
  (local $b i32) (local $oy i32) (local $ox i32) (local $cb i32) (local $wy i32) (local $wx i32) (local $yy i32) (local $xx i32)
  (local $idx i32) (local $best v128) (local $at v128) (local $v v128) (local $m v128) (local $g v128) (local $a i32) (local $q i32)
  (local $pd i32)
  (memory.fill (local.get $dx) (i32.const 0) (i32.shl (i32.mul (i32.mul (local.get $n) (local.get $h)) (i32.mul (local.get $w) (local.get $c))) (i32.const 2)))
  (local.set $pd (local.get $dy))
  (block $bd (loop $bl (br_if $bd (i32.ge_u (local.get $b) (local.get $n)))
   (local.set $oy (i32.const 0))
   (block $yd (loop $yl (br_if $yd (i32.ge_u (local.get $oy) (local.get $ho)))
    (local.set $ox (i32.const 0))
    (block $xd (loop $xl (br_if $xd (i32.ge_u (local.get $ox) (local.get $wo)))
     (local.set $cb (i32.const 0))
     (block $cd (loop $cl (br_if $cd (i32.ge_u (local.get $cb) (local.get $c)))
      (local.set $best (f32x4.splat (f32.const -inf)))
      (local.set $at (i32x4.splat (i32.const -1)))
      (local.set $wy (i32.const 0))
      (block $wyd (loop $wyl (br_if $wyd (i32.ge_s (local.get $wy) (local.get $fh)))
       (local.set $yy (i32.add (i32.sub (i32.mul (local.get $oy) (local.get $sh)) (local.get $pt)) (local.get $wy)))
       (if (i32.and (i32.ge_s (local.get $yy) (i32.const 0)) (i32.lt_s (local.get $yy) (local.get $h))) (then
        (local.set $wx (i32.const 0))
        (block $wxd (loop $wxl (br_if $wxd (i32.ge_s (local.get $wx) (local.get $fw)))
         (local.set $xx (i32.add (i32.sub (i32.mul (local.get $ox) (local.get $sw)) (local.get $pl)) (local.get $wx)))
         (if (i32.and (i32.ge_s (local.get $xx) (i32.const 0)) (i32.lt_s (local.get $xx) (local.get $w))) (then
          (local.set $idx (i32.add (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h)) (local.get $yy)) (local.get $w)) (local.get $xx)) (local.get $c)) (local.get $cb)))
          (local.set $v (v128.load align=4 (i32.add (local.get $x) (i32.shl (local.get $idx) (i32.const 2)))))
          (local.set $m (f32x4.gt (local.get $v) (local.get $best)))
          (local.set $best (v128.bitselect (local.get $v) (local.get $best) (local.get $m)))
          (local.set $at (v128.bitselect (i32x4.add (i32x4.splat (local.get $idx)) (v128.const i32x4 0 1 2 3)) (local.get $at) (local.get $m)))))
         (local.set $wx (i32.add (local.get $wx) (local.get $dwl))) (br $wxl)))))
       (local.set $wy (i32.add (local.get $wy) (local.get $dh))) (br $wyl)))
      (local.set $g (v128.load align=4 (local.get $pd)))
${[0, 1, 2, 3].map(scatterLane).join('\n')}
      (local.set $pd (i32.add (local.get $pd) (i32.const 16)))
      (local.set $cb (i32.add (local.get $cb) (i32.const 4))) (br $cl)))
     (local.set $ox (i32.add (local.get $ox) (i32.const 1))) (br $xl)))
    (local.set $oy (i32.add (local.get $oy) (i32.const 1))) (br $yl)))
   (local.set $b (i32.add (local.get $b) (i32.const 1))) (br $bl)))
)`;

/** dx row address of image b, row, column, as a byte pointer (c floats per pixel). */
const pix = (row: string, col: string) =>
  `(i32.add (local.get $dx) (i32.shl (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h)) ${row}) (local.get $w)) ${col}) (local.get $c)) (i32.const 2)))`;

const RESIZE_BILINEAR_GRAD = `
;; The adjoint of tfjs's forward bilinear resize: every dy pixel adds its four weighted shares to dx, 4 channels at a
;; time (c % 4 == 0). table (floats): [top, bottom, frac] per output row, then [left, right, frac] per output column,
;; computed in JavaScript with the forward kernel's own formulas (align-corners and half-pixel variants).
(func (export "resizeBilinearGrad") (param $dy i32) (param $dx i32) (param $table i32) (param $n i32) (param $h i32) (param $w i32)
  (param $c i32) (param $ho i32) (param $wo i32)
  (local $b i32) (local $r i32) (local $col i32) (local $cb i32) (local $top i32) (local $bot i32) (local $left i32) (local $right i32)
  (local $rf f32) (local $cf f32) (local $w00 v128) (local $w01 v128) (local $w10 v128) (local $w11 v128) (local $g v128)
  (local $p00 i32) (local $p01 i32) (local $p10 i32) (local $p11 i32) (local $pd i32) (local $t i32) (local $cbytes i32)
  (memory.fill (local.get $dx) (i32.const 0) (i32.shl (i32.mul (i32.mul (local.get $n) (local.get $h)) (i32.mul (local.get $w) (local.get $c))) (i32.const 2)))
  (local.set $pd (local.get $dy))
  (local.set $cbytes (i32.shl (local.get $c) (i32.const 2)))
  (block $bd (loop $bl (br_if $bd (i32.ge_u (local.get $b) (local.get $n)))
   (local.set $r (i32.const 0))
   (block $rd (loop $rl (br_if $rd (i32.ge_u (local.get $r) (local.get $ho)))
    (local.set $t (i32.add (local.get $table) (i32.mul (local.get $r) (i32.const 12))))
    (local.set $top (i32.trunc_f32_s (f32.load (local.get $t))))
    (local.set $bot (i32.trunc_f32_s (f32.load offset=4 (local.get $t))))
    (local.set $rf (f32.load offset=8 (local.get $t)))
    (local.set $col (i32.const 0))
    (block $cd (loop $cl (br_if $cd (i32.ge_u (local.get $col) (local.get $wo)))
     (local.set $t (i32.add (local.get $table) (i32.mul (i32.add (local.get $ho) (local.get $col)) (i32.const 12))))
     (local.set $left (i32.trunc_f32_s (f32.load (local.get $t))))
     (local.set $right (i32.trunc_f32_s (f32.load offset=4 (local.get $t))))
     (local.set $cf (f32.load offset=8 (local.get $t)))
     (local.set $w00 (f32x4.splat (f32.mul (f32.sub (f32.const 1) (local.get $rf)) (f32.sub (f32.const 1) (local.get $cf)))))
     (local.set $w01 (f32x4.splat (f32.mul (f32.sub (f32.const 1) (local.get $rf)) (local.get $cf))))
     (local.set $w10 (f32x4.splat (f32.mul (local.get $rf) (f32.sub (f32.const 1) (local.get $cf)))))
     (local.set $w11 (f32x4.splat (f32.mul (local.get $rf) (local.get $cf))))
     (local.set $p00 ${pix('(local.get $top)', '(local.get $left)')})
     (local.set $p01 ${pix('(local.get $top)', '(local.get $right)')})
     (local.set $p10 ${pix('(local.get $bot)', '(local.get $left)')})
     (local.set $p11 ${pix('(local.get $bot)', '(local.get $right)')})
     (local.set $cb (i32.const 0))
     (block $kd (loop $kl (br_if $kd (i32.ge_u (local.get $cb) (local.get $cbytes)))
      (local.set $g (v128.load align=4 (i32.add (local.get $pd) (local.get $cb))))
      ${['00', '01', '10', '11'].map((k) => `(v128.store align=4 (i32.add (local.get $p${k}) (local.get $cb)) (f32x4.add (v128.load align=4 (i32.add (local.get $p${k}) (local.get $cb))) (f32x4.mul (local.get $g) (local.get $w${k}))))`).join('\n      ')}
      (local.set $cb (i32.add (local.get $cb) (i32.const 16))) (br $kl)))
     (local.set $pd (i32.add (local.get $pd) (local.get $cbytes)))
     (local.set $col (i32.add (local.get $col) (i32.const 1))) (br $cl)))
    (local.set $r (i32.add (local.get $r) (i32.const 1))) (br $rl)))
   (local.set $b (i32.add (local.get $b) (i32.const 1))) (br $bl)))
)`;

export function heapKernelsWat(): string {
  return [sumBlock(4), sumBlock(1), SUM_LEADING, COPY_ROWS, MAX_POOL_GRAD, RESIZE_BILINEAR_GRAD].join('\n');
}
