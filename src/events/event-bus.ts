// One typed pub/sub for live events. In process by default; with REDIS_URL, through Redis,
// so an event published on one instance reaches subscribers on every other.
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { createPubSub, type PubSub } from 'graphql-yoga';
import { Redis } from 'ioredis';
import { ConfigError } from '../core/config.ts';

/** Topics and their arguments, as graphql-yoga's PubSub takes them. */
type Topics = Record<string, [unknown] | [string | number, unknown]>;

export interface EventBus<T extends Topics> {
  /** Publishes and subscribes by topic; with Redis, across every instance. */
  events: PubSub<T>;
  /** Closes the Redis connections, if any; in process there is nothing to close. */
  close(): Promise<void>;
}

/** How long start-up waits for Redis before it gives up. */
const REDIS_CONNECT_TIMEOUT_MS = 5000;

export async function openEventBus<T extends Topics>(redisUrl: string | null): Promise<EventBus<T>> {
  if (!redisUrl) return { events: createPubSub<T>(), close: async () => {} };
  const connect = async () => {
    const client = new Redis(redisUrl, { lazyConnect: true, connectTimeout: REDIS_CONNECT_TIMEOUT_MS, maxRetriesPerRequest: 3 });
    // Errors after start-up (a Redis restart) are retried by ioredis; they must not crash the process.
    client.on('error', () => {});
    try {
      await client.connect();
      await client.ping();
      return client;
    } catch (error) {
      client.disconnect();
      throw new ConfigError('REDIS_URL', `cannot be reached: ${(error as Error).message.split('\n')[0]}`);
    }
  };
  const publishClient = await connect();
  const subscribeClient = await connect().catch(async (error: unknown) => {
    publishClient.disconnect();
    throw error;
  });
  const eventTarget = createRedisEventTarget<CustomEvent>({ publishClient, subscribeClient, serializer: datePreserving });
  return {
    events: createPubSub<T>({ eventTarget }),
    async close() {
      await Promise.allSettled([publishClient.quit(), subscribeClient.quit()]);
    },
  };
}

/** JSON that keeps Dates as Dates across the wire (job times travel inside progress events). */
const datePreserving = {
  stringify: (value: unknown) =>
    JSON.stringify(value, function (this: Record<string, unknown>, key, item: unknown) {
      const raw = this[key];
      return raw instanceof Date ? { $date: raw.toISOString() } : item;
    }),
  parse: (text: string) =>
    JSON.parse(text, (_key, item: unknown) =>
      item && typeof item === 'object' && typeof (item as { $date?: unknown }).$date === 'string'
        ? new Date((item as { $date: string }).$date)
        : item,
    ) as unknown,
};
