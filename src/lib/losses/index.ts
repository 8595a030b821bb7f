export { diceLoss } from './dice';
export { bceWithLogits, focalWithLogits } from './bce';
export { weightedSum, type LossTerm } from './weighted';
