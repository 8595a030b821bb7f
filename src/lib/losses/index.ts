export { diceLoss } from './dice';
export { bceWithLogits, focalWithLogits } from './bce';
export { weightedSum, type LossTerm } from './weighted';
export { pixelSupConLoss } from './supcon';
export { uniformityLoss } from './uniformity';
export { interInstanceSeparationLoss } from './separation';
export { tokenLabels, sampleTokens } from './token-labels';
