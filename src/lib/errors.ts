/**
 * One error class per domain. Every error names the file (when there is one) and the reason,
 * so a user reading a stack trace in a notebook knows which input to look at.
 */
export class SifdError extends Error {
  /** The file or folder the error is about, when there is one. */
  readonly file?: string;
  /** The reason alone, without the file prefix. */
  readonly reason: string;

  constructor(reason: string, file?: string) {
    super(file ? `${file}: ${reason}` : reason);
    this.name = new.target.name;
    this.file = file;
    this.reason = reason;
  }
}

/** Dataset layout, image and mask IO. */
export class DatasetError extends SifdError {}
/** Bad configuration or arguments (unknown model, invalid option). */
export class ConfigError extends SifdError {}
/** Model construction and forward pass. */
export class ModelError extends SifdError {}
/** Training loop: NaN losses, checkpoints. */
export class TrainingError extends SifdError {}
/** Metrics, RLE and submissions. */
export class MetricError extends SifdError {}
/** Compute backend selection and kernels. */
export class BackendError extends SifdError {}
/** Reading pretrained weights (safetensors, PyTorch state dicts) and mapping them onto a model. */
export class WeightsError extends SifdError {}
/** Notebook execution. */
export class NotebookError extends SifdError {}
/** Corpus screening: the result store, worker processes, the queue. */
export class ScreenError extends SifdError {}

/** Suggest the closest known names for an unknown one ("did you mean ...?"). */
export function didYouMean(name: string, known: readonly string[]): string {
  const scored = known
    .map((k) => ({ k, d: levenshtein(name.toLowerCase(), k.toLowerCase()) }))
    .sort((a, b) => a.d - b.d);
  const close = scored.filter((s) => s.d <= Math.max(2, Math.floor(name.length / 3))).map((s) => s.k);
  const list = known.join(', ');
  return close.length
    ? `did you mean ${close.slice(0, 3).map((c) => `'${c}'`).join(' or ')}? Known: ${list}`
    : `known: ${list}`;
}

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length];
}
