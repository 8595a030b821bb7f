/**
 * Keypoints + descriptors: binary ones from OpenCV.js (ORB, AKAZE or BRISK), repacked as uint32
 * words so matching can XOR/popcount them in plain JS; or float SIFT/RootSIFT ones from sift.ts
 * (OpenCV.js has no SIFT), matched by L2 distance.
 */
import { ModelError } from '../errors';
import type { GrayImage } from './grayscale';
import { type OpenCv, release } from './opencv';
import type { ClassicalParams } from './params';
import { type BlurFn, detectSift, mirrorDescriptors, SIFT_DIMS } from './sift';

export interface Keypoints {
  count: number;
  x: Float32Array;
  y: Float32Array;
  /** Degrees, as OpenCV reports them. */
  angle: Float32Array;
  size: Float32Array;
  /** count x words descriptor bits. */
  desc: Uint32Array;
  words: number;
  /** Bits per descriptor (for distance thresholds given as a fraction). */
  bits: number;
  /** Float descriptors (SIFT): count x dims, unit L2 norm; binary `desc` is then empty (words 0). */
  fdesc?: Float32Array;
  dims?: number;
}

/** SIFT keypoints of the working image (float descriptors), strongest `maxKeypoints` positions. */
export function detectSiftKeypoints(cv: OpenCv, gray: GrayImage, params: ClassicalParams): Keypoints {
  const k = detectSift(
    gray,
    { contrastThreshold: params.siftContrast, maxKeypoints: params.maxKeypoints, rootSift: params.rootSift, doubleImage: false },
    openCvBlur(cv),
  );
  return { count: k.count, x: k.x, y: k.y, angle: k.angle, size: k.size, desc: new Uint32Array(0), words: 0, bits: 0, fdesc: k.desc, dims: SIFT_DIMS };
}

/** OpenCV.js's Gaussian blur (WebAssembly, ~5x the plain-JS one): the same kernel and borders as sift.ts assumes. */
function openCvBlur(cv: OpenCv): BlurFn {
  return (src, sigma) => {
    const a = cv.matFromArray(src.height, src.width, cv.CV_32F, src.data);
    const b = new cv.Mat();
    try {
      cv.GaussianBlur(a, b, new cv.Size(0, 0), sigma, sigma, cv.BORDER_REFLECT_101);
      return { data: new Float32Array(b.data32F), width: src.width, height: src.height };
    } finally {
      release(a, b);
    }
  };
}

/**
 * The mirror image's float keypoints without detecting again: the same positions (left-right
 * mirroring maps a DoG extremum onto one), mirrored descriptors (sift.ts, mirrorDescriptors).
 */
export function mirrorFloatKeypoints(kp: Keypoints): Keypoints {
  if (!kp.fdesc) throw new ModelError('mirrored keypoints without detecting again need float (SIFT) descriptors; binary ones are detected on the mirrored image');
  return { ...kp, angle: kp.angle.map((a) => (540 - a) % 360), fdesc: mirrorDescriptors(kp.fdesc) };
}

/** Detects on the image, or on its left-right mirror with x mapped back to the original frame. */
export function detectKeypoints(cv: OpenCv, gray: GrayImage, params: ClassicalParams, mirrored = false): Keypoints {
  const src = cv.matFromArray(gray.height, gray.width, cv.CV_8UC1, gray.data);
  const img = mirrored ? new cv.Mat() : src;
  const kp = new cv.KeyPointVector();
  const desc = new cv.Mat();
  const noMask = new cv.Mat();
  const detector = createDetector(cv, params);
  try {
    if (mirrored) cv.flip(src, img, 1);
    detector.detectAndCompute(img, noMask, kp, desc);
    const n = kp.size();
    const bytes = n > 0 ? desc.cols : 0;
    const words = Math.ceil(bytes / 4);
    let order = Array.from({ length: n }, (_, i) => i);
    const response = new Float32Array(n);
    for (let i = 0; i < n; i++) response[i] = kp.get(i).response;
    if (n > params.maxKeypoints) order = order.sort((a, b) => response[b] - response[a]).slice(0, params.maxKeypoints);
    const m = order.length;
    const out: Keypoints = {
      count: m,
      x: new Float32Array(m),
      y: new Float32Array(m),
      angle: new Float32Array(m),
      size: new Float32Array(m),
      desc: new Uint32Array(m * words),
      words,
      bits: bytes * 8,
    };
    const raw: Uint8Array = desc.data;
    const padded = new Uint8Array(words * 4);
    for (let r = 0; r < m; r++) {
      const i = order[r];
      const k = kp.get(i);
      out.x[r] = mirrored ? gray.width - 1 - k.pt.x : k.pt.x;
      out.y[r] = k.pt.y;
      out.angle[r] = k.angle;
      out.size[r] = k.size;
      padded.fill(0);
      padded.set(raw.subarray(i * bytes, (i + 1) * bytes));
      const view = new Uint32Array(padded.buffer);
      out.desc.set(view, r * words);
    }
    return out;
  } finally {
    release(kp, desc, noMask, detector);
    if (mirrored) release(img);
    release(src);
  }
}

function createDetector(cv: OpenCv, params: ClassicalParams): OpenCv {
  switch (params.detector) {
    case 'orb': {
      // nfeatures, scaleFactor, nlevels, edgeThreshold. The 9-argument constructor (FAST threshold)
      // is unusable in this build: its ScoreType enum is unbound.
      const d = new cv.ORB(params.maxKeypoints, 1.2, params.orbLevels, params.orbPatchSize);
      d.setPatchSize(params.orbPatchSize);
      return d;
    }
    case 'akaze': {
      const d = new cv.AKAZE();
      d.setThreshold(params.akazeThreshold);
      return d;
    }
    case 'brisk':
      return new cv.BRISK();
  }
}
