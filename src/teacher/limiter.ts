// A concurrency limiter: at most `limit` tasks run at once; the rest wait in FIFO order.
// The limit can change while tasks run (the UI's concurrency field).

export interface Limiter {
  run<T>(task: () => Promise<T>): Promise<T>;
  setLimit(n: number): void;
  readonly active: number;
  readonly pending: number;
}

export function createLimiter(limit: number): Limiter {
  let max = Math.max(1, Math.floor(limit));
  let active = 0;
  const queue: (() => void)[] = [];
  const pump = () => {
    while (active < max && queue.length) {
      active++;
      queue.shift()!();
    }
  };
  return {
    run<T>(task: () => Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push(() => {
          task().then(resolve, reject).finally(() => { active--; pump(); });
        });
        pump();
      });
    },
    setLimit(n: number) { max = Math.max(1, Math.floor(n)); pump(); },
    get active() { return active; },
    get pending() { return queue.length; },
  };
}
