// ml-naivebayes ships no types; only the parts the tests compare against are declared.
declare module 'ml-naivebayes' {
  import type { Matrix } from 'ml-matrix';

  export class GaussianNB {
    means: number[][];
    /** [class][0] = log prior; [class][j] = [1 / (sqrt(2π)·std), -2·std²] for feature j-1. */
    calculateProbabilities: [number, ...[number, number][]][];
    train(trainingSet: number[][], trainingLabels: number[]): void;
    predict(dataset: number[][]): number[];
  }

  export class MultinomialNB {
    conditionalProbability: Matrix;
    priorProbability: Matrix;
    train(trainingSet: number[][], trainingLabels: number[]): void;
    predict(dataset: number[][]): number[];
  }
}
