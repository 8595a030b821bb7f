import * as fs from 'node:fs';
import * as path from 'node:path';
import { WeightsError } from '../errors';
import { parsePytorch } from './pytorch';
import { parseSafetensors } from './safetensors';
import type { StateDict } from './stateDict';
import { isZip } from './zip';

/** File kinds sifd reads, by what they hold (the extension is only a hint; the bytes decide). */
export const WEIGHT_FORMATS = ['.safetensors', '.pth', '.pt', '.bin'] as const;

/**
 * A reference model's state dict from a `.safetensors` file or a PyTorch zip checkpoint, told
 * apart by their first bytes (a zip header, a legacy pickle, or safetensors' length + JSON).
 */
export function loadStateDict(file: string): StateDict {
  let bytes: Uint8Array;
  try {
    if (!fs.statSync(file).isFile()) throw new WeightsError('not a file', file);
    bytes = fs.readFileSync(file);
  } catch (e) {
    if (e instanceof WeightsError) throw e;
    throw new WeightsError(`cannot read weights: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, file);
  }
  return parseStateDict(bytes, file);
}

export function parseStateDict(bytes: Uint8Array, file: string): StateDict {
  if (isZip(bytes) || (bytes[0] === 0x80 && bytes[1] === 0x02)) return parsePytorch(bytes, file);
  if (bytes.length >= 9 && bytes[8] === 0x7b /* '{' */) return parseSafetensors(bytes, file);
  const ext = path.extname(file).toLowerCase();
  const hint = ext === '.safetensors' ? 'truncated or not a safetensors file' : `unknown weights format${ext ? ` ('${ext}')` : ''}`;
  throw new WeightsError(`${hint}: sifd reads safetensors and PyTorch (torch.save >= 1.6) state dicts (${WEIGHT_FORMATS.join(', ')})`, file);
}
