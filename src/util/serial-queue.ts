// Runs tasks one at a time, in the order they were queued.
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private running = 0;

  /** Whether a task is queued or running. */
  get busy(): boolean {
    return this.running > 0;
  }

  /** Runs `task` after every task queued before it has settled; a failure does not stop the queue. */
  run<T>(task: () => Promise<T>): Promise<T> {
    this.running++;
    const result = this.tail.then(task).finally(() => this.running--);
    this.tail = result.catch(() => {});
    return result;
  }
}
