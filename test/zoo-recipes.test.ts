/**
 * The zoo's family recipes (src/lib/zoo/recipes.ts) restate each training notebook's defaults so
 * `sifd compare` trains a family as its notebook does. This pins the two together: the size, epochs and
 * training images a notebook's CONFIG reads by default (and at SIFD_QUICK=1) must be its recipe's, and
 * both must feed the same evidence, so a change to one that forgets the other fails here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { notebooksDir } from '../src/lib/notebooks/runner';
import { familyRecipe } from '../src/lib/zoo/recipes';

function notebookSource(name: string): string {
  const nb = JSON.parse(fs.readFileSync(path.join(notebooksDir(), `${name}.ipynb`), 'utf8')) as { cells: Array<{ source: string | string[] }> };
  return nb.cells.map((c) => (Array.isArray(c.source) ? c.source.join('') : c.source)).join('\n');
}

/** The notebook's default for an env parameter: `env('KEY', quick ? 'Q' : 'D')`. */
function notebookDefault(src: string, key: string, quick: boolean): number {
  const m = new RegExp(`env\\('${key}', quick \\? '(\\d+)' : '(\\d+)'\\)`).exec(src);
  assert.ok(m, `the notebook reads ${key} with a quick and a default value`);
  return Number(quick ? m[1] : m[2]);
}

const FAMILIES: Array<[string, string]> = [
  ['segformer-cmfd', '03_train_segformer'],
  ['maskrcnn-mnv3s', '04_train_maskrcnn'],
  ['dinov2-metric', '05_dinov2_metric'],
  ['bappy-convlstm', '06_bappy_convlstm'],
  ['deeplabv3plus', '07_cacl_deeplab'],
];

for (const [model, notebook] of FAMILIES) {
  test(`zoo recipe of ${model} matches notebook ${notebook}'s defaults`, () => {
    const src = notebookSource(notebook);
    for (const quick of [false, true]) {
      const recipe = familyRecipe(model, { quick });
      assert.equal(recipe.notebook, notebook);
      assert.equal(recipe.train.size, notebookDefault(src, 'SIFD_SIZE', quick), `size (quick ${quick})`);
      assert.equal(recipe.train.epochs, notebookDefault(src, 'SIFD_EPOCHS', quick), `epochs (quick ${quick})`);
      assert.equal(recipe.trainImages, notebookDefault(src, 'SIFD_TRAIN_IMAGES', quick), `training images (quick ${quick})`);
      assert.match(src, new RegExp(`evidence: env\\('SIFD_EVIDENCE', [^)]*'${recipe.train.evidence}'`), 'the same evidence channels');
    }
  });
}
