// Runs an async step over a list with at most `limit` steps in flight, results in list order.
export async function mapConcurrently<T, R>(items: readonly T[], limit: number, step: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    // After a failure no new step starts; the ones running finish and the first error wins.
    while (!failed && next < items.length) {
      const at = next++;
      try {
        results[at] = await step(items[at]!);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker);
  const settled = await Promise.allSettled(workers);
  const rejected = settled.find((outcome) => outcome.status === 'rejected');
  if (rejected) throw (rejected as PromiseRejectedResult).reason;
  return results;
}
