/** A promise with its resolver outside, settled at most once. */
export class Deferred<T> {
  readonly promise: Promise<T>;
  private settle!: (value: T) => void;
  private done = false;
  constructor() {
    this.promise = new Promise<T>((resolve) => {
      this.settle = resolve;
    });
  }
  resolve(value: T): void {
    if (this.done) return;
    this.done = true;
    this.settle(value);
  }
  get settled(): boolean {
    return this.done;
  }
}
