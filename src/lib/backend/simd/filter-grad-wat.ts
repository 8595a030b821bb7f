/**
 * WebAssembly text of sifd's own SIMD training kernels: direct (no im2col) filter gradients of 2-D and depthwise
 * convolutions, reading x and dy straight from tfjs-wasm's heap (the module imports that memory) and writing dW.
 *
 * Why our own kernel: as im2col + XNNPACK GEMM the filter gradient spent ~40% of its time building the im2col
 * operand (copies), and XNNPACK's GEMM does not block the long reduction (positions) dimension. Here every output
 * row of dy is multiplied against the input row of each tap in place: for a block of 4 input channels x 8 output
 * channels the 8 v128 accumulators stay in registers over the row, and x/dy rows are L1-resident across taps.
 *
 * The text is generated (the register tiles are unrolled) and assembled by wabt at backend start (kernels.ts).
 * All pointers and strides are byte offsets into the imported memory; every argument is an i32.
 */

type Emit = string[];

/** Lane r broadcast of a v128 (i8x16.shuffle byte indices). */
function broadcastLane(r: number): string {
  const bytes: number[] = [];
  for (let k = 0; k < 4; k++) for (let b = 0; b < 4; b++) bytes.push(r * 4 + b);
  return bytes.join(' ');
}

/**
 * $fblk_R_V(px, pd, pw, count, xstep, dstep, wrow): dW rows c..c+R (R = 4 or 1), outputs o..o+4V (V = 2 or 1):
 *   for t < count: acc[r][v] += x[px + t*xstep + 4r] * dy[pd + t*dstep + 16v]
 * then dW[pw + r*wrow + 16v] += acc[r][v].
 */
function filterBlock(R: number, V: number): string {
  const o: Emit = [];
  const acc = (r: number, v: number) => `$a${r}_${v}`;
  o.push(`(func $fblk_${R}_${V} (param $px i32) (param $pd i32) (param $pw i32) (param $count i32) (param $xstep i32) (param $dstep i32) (param $wrow i32)`);
  for (let r = 0; r < R; r++) for (let v = 0; v < V; v++) o.push(`  (local ${acc(r, v)} v128)`);
  for (let v = 0; v < V; v++) o.push(`  (local $d${v} v128)`);
  o.push('  (local $xv v128) (local $s v128)');
  o.push('  (block $done (br_if $done (i32.eqz (local.get $count)))');
  o.push('  (loop $l');
  for (let v = 0; v < V; v++) o.push(`    (local.set $d${v} (v128.load offset=${16 * v} align=4 (local.get $pd)))`);
  if (R === 4) o.push('    (local.set $xv (v128.load align=4 (local.get $px)))');
  for (let r = 0; r < R; r++) {
    if (R === 4) o.push(`    (local.set $s (i8x16.shuffle ${broadcastLane(r)} (local.get $xv) (local.get $xv)))`);
    else o.push(`    (local.set $s (f32x4.splat (f32.load align=4 (local.get $px))))`);
    for (let v = 0; v < V; v++) {
      o.push(`    (local.set ${acc(r, v)} (f32x4.add (local.get ${acc(r, v)}) (f32x4.mul (local.get $s) (local.get $d${v}))))`);
    }
  }
  o.push('    (local.set $px (i32.add (local.get $px) (local.get $xstep)))');
  o.push('    (local.set $pd (i32.add (local.get $pd) (local.get $dstep)))');
  o.push('    (br_if $l (local.tee $count (i32.sub (local.get $count) (i32.const 1))))))');
  for (let r = 0; r < R; r++) {
    for (let v = 0; v < V; v++) {
      const addr = `(i32.add (local.get $pw) (i32.const ${16 * v}))`;
      o.push(`  (v128.store align=4 ${addr} (f32x4.add (v128.load align=4 ${addr}) (local.get ${acc(r, v)})))`);
    }
    if (r + 1 < R) o.push('  (local.set $pw (i32.add (local.get $pw) (local.get $wrow)))');
  }
  o.push(')');
  return o.join('\n');
}

/**
 * $dblk_V(px, pd, pw, count, xstep, dstep): depthwise (multiplier 1), channels c..c+4V:
 *   dW[pw + 16v] += sum_t x[px + t*xstep + 16v] * dy[pd + t*dstep + 16v]
 */
function depthwiseBlock(V: number): string {
  const o: Emit = [];
  o.push(`(func $dblk_${V} (param $px i32) (param $pd i32) (param $pw i32) (param $count i32) (param $xstep i32) (param $dstep i32)`);
  for (let v = 0; v < V; v++) o.push(`  (local $a${v} v128)`);
  o.push('  (block $done (br_if $done (i32.eqz (local.get $count)))');
  o.push('  (loop $l');
  for (let v = 0; v < V; v++) {
    o.push(`    (local.set $a${v} (f32x4.add (local.get $a${v}) (f32x4.mul (v128.load offset=${16 * v} align=4 (local.get $px)) (v128.load offset=${16 * v} align=4 (local.get $pd)))))`);
  }
  o.push('    (local.set $px (i32.add (local.get $px) (local.get $xstep)))');
  o.push('    (local.set $pd (i32.add (local.get $pd) (local.get $dstep)))');
  o.push('    (br_if $l (local.tee $count (i32.sub (local.get $count) (i32.const 1))))))');
  for (let v = 0; v < V; v++) {
    const addr = `(i32.add (local.get $pw) (i32.const ${16 * v}))`;
    o.push(`  (v128.store align=4 ${addr} (f32x4.add (v128.load align=4 ${addr}) (local.get $a${v})))`);
  }
  o.push(')');
  return o.join('\n');
}

/** The parameters shared by both drivers, in call order. */
const DRIVER_PARAMS = ['x', 'dy', 'dw', 'n', 'h', 'w', 'cin', 'ho', 'wo', 'cout', 'kh', 'kw', 'sh', 'sw', 'dh', 'dwl', 'pt', 'pl'] as const;

/**
 * The loops shared by both drivers: over images b, output rows y, taps (i, j) with the output column range
 * [x0, x1) whose input column x*sw + j*dwl - pl lies inside the image; `body` runs per (row, tap) with
 * $xrow (x at column x0 of the tap), $drow (dy at column x0), $tapw (dW of the tap) and $count set.
 */
function driver(name: string, body: string, tapFloats: string): string {
  const params = DRIVER_PARAMS.map((p) => `(param $${p} i32)`).join(' ');
  return `(func (export "${name}") ${params}
  (local $b i32) (local $y i32) (local $i i32) (local $j i32) (local $yi i32) (local $off i32)
  (local $x0 i32) (local $x1 i32) (local $count i32) (local $xrow i32) (local $drow i32) (local $tapw i32)
  (local $xpix i32) (local $dpix i32) (local $c i32) (local $xstep i32)
  (memory.fill (local.get $dw) (i32.const 0) (i32.shl (i32.mul (i32.mul (local.get $kh) (local.get $kw)) ${tapFloats}) (i32.const 2)))
  (local.set $xpix (i32.shl (local.get $cin) (i32.const 2)))
  (local.set $dpix (i32.shl (local.get $cout) (i32.const 2)))
  (local.set $xstep (i32.mul (local.get $xpix) (local.get $sw)))
  (block $bdone (loop $bl (br_if $bdone (i32.ge_u (local.get $b) (local.get $n)))
   (local.set $y (i32.const 0))
   (block $ydone (loop $yl (br_if $ydone (i32.ge_u (local.get $y) (local.get $ho)))
    (local.set $i (i32.const 0))
    (block $idone (loop $il (br_if $idone (i32.ge_u (local.get $i) (local.get $kh)))
     (local.set $yi (i32.sub (i32.add (i32.mul (local.get $y) (local.get $sh)) (i32.mul (local.get $i) (local.get $dh))) (local.get $pt)))
     (if (i32.and (i32.ge_s (local.get $yi) (i32.const 0)) (i32.lt_s (local.get $yi) (local.get $h))) (then
      (local.set $j (i32.const 0))
      (block $jdone (loop $jl (br_if $jdone (i32.ge_u (local.get $j) (local.get $kw)))
       (local.set $off (i32.sub (i32.mul (local.get $j) (local.get $dwl)) (local.get $pl)))
       ;; x0 = ceil(-off / sw) when off < 0; x1 = min(wo, ceil((w - off) / sw))
       (local.set $x0 (select (i32.div_s (i32.add (i32.sub (i32.const 0) (local.get $off)) (i32.sub (local.get $sw) (i32.const 1))) (local.get $sw))
                             (i32.const 0) (i32.lt_s (local.get $off) (i32.const 0))))
       (local.set $x1 (select (i32.div_s (i32.add (i32.sub (local.get $w) (local.get $off)) (i32.sub (local.get $sw) (i32.const 1))) (local.get $sw))
                             (i32.const 0) (i32.gt_s (i32.sub (local.get $w) (local.get $off)) (i32.const 0))))
       (if (i32.gt_s (local.get $x1) (local.get $wo)) (then (local.set $x1 (local.get $wo))))
       (if (i32.lt_s (local.get $x0) (local.get $x1)) (then
        (local.set $count (i32.sub (local.get $x1) (local.get $x0)))
        (local.set $xrow (i32.add (local.get $x) (i32.mul (local.get $xpix)
          (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h)) (local.get $yi)) (local.get $w))
                   (i32.add (i32.mul (local.get $x0) (local.get $sw)) (local.get $off))))))
        (local.set $drow (i32.add (local.get $dy) (i32.mul (local.get $dpix)
          (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $ho)) (local.get $y)) (local.get $wo)) (local.get $x0)))))
        (local.set $tapw (i32.add (local.get $dw) (i32.shl (i32.mul (i32.add (i32.mul (local.get $i) (local.get $kw)) (local.get $j))
          ${tapFloats}) (i32.const 2))))
${body}
       ))
       (local.set $j (i32.add (local.get $j) (i32.const 1))) (br $jl)))
     ))
     (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $il)))
    (local.set $y (i32.add (local.get $y) (i32.const 1))) (br $yl)))
   (local.set $b (i32.add (local.get $b) (i32.const 1))) (br $bl)))
)`;
}

/**
 * Per (row, tap) body of the 2-D filter gradient: channel blocks of 4 (then single channels) x output blocks
 * of 8 (then 4). Requires cout % 4 == 0 (the caller falls back otherwise).
 */
const CONV_BODY = `
        (local.set $c (i32.const 0))
        (block $cdone (loop $cl
         (br_if $cdone (i32.gt_u (i32.add (local.get $c) (i32.const 4)) (local.get $cin)))
         (call $orow4 (i32.add (local.get $xrow) (i32.shl (local.get $c) (i32.const 2))) (local.get $drow)
           (i32.add (local.get $tapw) (i32.mul (local.get $c) (local.get $dpix))) (local.get $count) (local.get $xstep) (local.get $dpix) (local.get $cout))
         (local.set $c (i32.add (local.get $c) (i32.const 4))) (br $cl)))
        (block $c1done (loop $c1l
         (br_if $c1done (i32.ge_u (local.get $c) (local.get $cin)))
         (call $orow1 (i32.add (local.get $xrow) (i32.shl (local.get $c) (i32.const 2))) (local.get $drow)
           (i32.add (local.get $tapw) (i32.mul (local.get $c) (local.get $dpix))) (local.get $count) (local.get $xstep) (local.get $dpix) (local.get $cout))
         (local.set $c (i32.add (local.get $c) (i32.const 1))) (br $c1l)))`;

/** $orowR: all output blocks of one channel block: 8-wide while they fit, then one 4-wide. */
function outputRow(R: number): string {
  return `(func $orow${R} (param $px i32) (param $pd i32) (param $pw i32) (param $count i32) (param $xstep i32) (param $dstep i32) (param $cout i32)
  (local $o i32)
  (block $odone (loop $ol
   (br_if $odone (i32.gt_u (i32.add (local.get $o) (i32.const 8)) (local.get $cout)))
   (call $fblk_${R}_2 (local.get $px) (i32.add (local.get $pd) (i32.shl (local.get $o) (i32.const 2)))
     (i32.add (local.get $pw) (i32.shl (local.get $o) (i32.const 2))) (local.get $count) (local.get $xstep) (local.get $dstep) (local.get $dstep))
   (local.set $o (i32.add (local.get $o) (i32.const 8))) (br $ol)))
  (if (i32.lt_u (local.get $o) (local.get $cout)) (then
   (call $fblk_${R}_1 (local.get $px) (i32.add (local.get $pd) (i32.shl (local.get $o) (i32.const 2)))
     (i32.add (local.get $pw) (i32.shl (local.get $o) (i32.const 2))) (local.get $count) (local.get $xstep) (local.get $dstep) (local.get $dstep))))
)`;
}

/** Per (row, tap) body of the depthwise filter gradient (multiplier 1, cin = cout, cin % 4 == 0). */
const DEPTHWISE_BODY = `
        (local.set $c (i32.const 0))
        (block $cdone (loop $cl
         (br_if $cdone (i32.gt_u (i32.add (local.get $c) (i32.const 16)) (local.get $cin)))
         (call $dblk_4 (i32.add (local.get $xrow) (i32.shl (local.get $c) (i32.const 2))) (i32.add (local.get $drow) (i32.shl (local.get $c) (i32.const 2)))
           (i32.add (local.get $tapw) (i32.shl (local.get $c) (i32.const 2))) (local.get $count) (local.get $xstep) (local.get $dpix))
         (local.set $c (i32.add (local.get $c) (i32.const 16))) (br $cl)))
        (block $c1done (loop $c1l
         (br_if $c1done (i32.ge_u (local.get $c) (local.get $cin)))
         (call $dblk_1 (i32.add (local.get $xrow) (i32.shl (local.get $c) (i32.const 2))) (i32.add (local.get $drow) (i32.shl (local.get $c) (i32.const 2)))
           (i32.add (local.get $tapw) (i32.shl (local.get $c) (i32.const 2))) (local.get $count) (local.get $xstep) (local.get $dpix))
         (local.set $c (i32.add (local.get $c) (i32.const 4))) (br $c1l)))`;

/** The filter-gradient functions: conv2dFilterGrad and depthwiseFilterGrad (exported), with their blocks. */
export function filterGradWat(): string {
  return [
    filterBlock(4, 2), filterBlock(4, 1), filterBlock(1, 2), filterBlock(1, 1),
    outputRow(4), outputRow(1),
    depthwiseBlock(4), depthwiseBlock(1),
    // dW of a 2-D conv is [kh, kw, cin, cout]: cin*cout floats per tap.
    driver('conv2dFilterGrad', CONV_BODY, '(i32.mul (local.get $cin) (local.get $cout))'),
    // Depthwise dW is [kh, kw, c, 1] and the caller passes cout = cin: c floats per tap.
    driver('depthwiseFilterGrad', DEPTHWISE_BODY, '(local.get $cin)'),
  ].join('\n');
}
