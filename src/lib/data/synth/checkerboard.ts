/**
 * A rendered checkerboard target, grey: the exactly periodic figure that periodic breaks
 * (classical/periodicBreaks.ts) is made for, drawn by its tests and notebook 08.
 */

/**
 * Squares of `square` px alternating `light` and `dark`, with a one-pixel grey ramp at each edge as
 * rendered targets have: the last column and row of a square take the mean with the next square's level.
 */
export function renderCheckerboard(width: number, height: number, square: number, light = 230, dark = 25): { data: Uint8Array; width: number; height: number } {
  const data = new Uint8Array(width * height);
  const level = (x: number, y: number) => ((Math.floor(x / square) + Math.floor(y / square)) % 2 === 0 ? light : dark);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = level(x, y);
      const right = x % square === square - 1 ? level(x + 1, y) : v;
      const below = y % square === square - 1 ? level(x, y + 1) : v;
      data[y * width + x] = Math.round((2 * v + right + below) / 4);
    }
  }
  return { data, width, height };
}
