// Generates a deterministic, realistic media library for the example app: the same
// numbers give the same rows, and unusual values (huge BigInts, long decimals, emoji,
// nested JSON, bytes, NULLs) turn up regularly.
import type { Provider } from '../prisma/database-url.ts';

export type Value = string | number | boolean | bigint | Date | Buffer | null | string[] | { json: unknown };
export type Row = Record<string, Value>;
export type Emit = (table: string, row: Row) => void;

/** mulberry32: tiny, fast and good enough for test data. */
export function prng(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!,
    chance: (p: number) => next() < p,
  };
}

const BASE_TIME = Date.UTC(2024, 0, 1);
const DAY = 86_400_000;
const WORDS = ['Night', 'Storm', 'Garden', 'Empire', 'Echo', 'River', 'Signal', 'Harbor', 'Glass', 'Winter', 'Orbit', 'Lantern', 'Café', 'Ünder', 'Tokyo', 'Kraków', 'Ålesund', 'Señor'];
const GENRES = ['Drama', 'Comedy', 'Sci-Fi', 'Documentary', 'Animation', 'Thriller', 'Horror', 'Romance'];
const CODECS = { video: ['h264', 'hevc', 'av1'], audio: ['aac', 'eac3', 'truehd', 'opus'], subtitle: ['srt', 'pgs', 'ass'] };
const LANGUAGES = ['eng', 'deu', 'fra', 'jpn', 'spa', 'nor'];
const SERVERS = ['server-plex', 'server-jellyfin'];
const LIBRARIES = ['library-movies', 'library-shows', 'library-anime', 'library-docs'];
const USERS = ['user-admin', 'user-ana', 'user-bo', 'user-chen', 'user-dara'];
const RULES = ['rule-stale', 'rule-stale-4k', 'rule-unwatched', 'rule-low-rated', 'rule-keep-favs', 'rule-notify'];

export interface GeneratorOptions {
  provider: Provider;
  /** Items already in the library: new ids and numbers continue after them. */
  offset: number;
  /**
   * The number this seeding run started after. Episodes belong only to shows of the same
   * run: an older show may have been deleted since (with its episodes, by cascade).
   */
  runOffset: number;
}

/** Settings, servers, libraries, rules, integrations, users and sessions: written once. */
export function generateConfiguration(provider: Provider, emit: Emit): void {
  const at = (days: number) => new Date(BASE_TIME + days * DAY);
  emit('AppSetting', { key: 'general', value: { json: { language: 'en', theme: 'dark', firstRun: false } }, updatedAt: at(1) });
  emit('AppSetting', { key: 'sync', value: { json: { intervalMinutes: 30, libraries: LIBRARIES, nested: { depth: { ok: true } } } }, updatedAt: at(2) });
  emit('AppSetting', { key: 'ui.welcome', value: { json: 'Welcome 👋 to your library' }, updatedAt: at(3) });
  emit('MediaServer', { id: SERVERS[0]!, name: 'Living room Plex', kind: 'PLEX', url: 'http://192.0.2.10:32400', token: 'plex-5QmT2rW8yZ0pL3kN7vB1', enabled: true, lastSyncAt: at(300), createdAt: at(0) });
  emit('MediaServer', { id: SERVERS[1]!, name: 'Jellyfin', kind: 'JELLYFIN', url: 'http://192.0.2.11:8096', token: 'jf-9d8c7b6a', enabled: false, lastSyncAt: null, createdAt: at(10) });
  LIBRARIES.forEach((id, i) =>
    emit('Library', { id, serverId: SERVERS[i % 2]!, externalKey: String(i + 1), title: ['Movies', 'Shows', 'Anime', 'Documentaries'][i]!, type: i === 1 || i === 2 ? 'SHOW' : 'MOVIE', path: i === 3 ? null : `/mnt/media/${id}` }),
  );
  const decimals = ['0.75', '1.5', '0.000001', '99999999.999999', '3.14159265358979', '0'];
  RULES.forEach((id, i) =>
    emit('Rule', {
      id,
      name: ['Stale movies', 'Stale 4K remuxes', 'Never watched', 'Low rated', 'Keep favourites', 'Tell me first'][i]!,
      libraryId: i === 5 ? null : LIBRARIES[i % 4]!,
      parentId: i === 1 ? RULES[0]! : i === 3 ? RULES[2]! : null,
      conditions: { json: { all: [{ field: 'lastWatchedAt', op: 'olderThan', days: 90 + i * 30 }, { field: 'rating', op: 'lt', value: 6.5 }] } },
      action: ['DELETE', 'DELETE', 'UNMONITOR', 'NOTIFY', 'KEEP', 'NOTIFY'][i]!,
      threshold: provider === 'sqlite' ? Number(decimals[i]) : decimals[i]!,
      graceDays: 30 + i,
      enabled: i !== 4,
      createdAt: at(20 + i),
    }),
  );
  emit('Integration', { id: 'int-sonarr', kind: 'sonarr', name: 'Sonarr', url: 'http://192.0.2.20:8989', apiKey: 'sonarr-0f1e2d3c4b5a', certificate: null, settings: { json: { qualityProfile: 'HD-1080p', tags: [1, 2, 3] } }, enabled: true });
  emit('Integration', { id: 'int-radarr', kind: 'radarr', name: 'Radarr', url: 'https://radarr.example.home', apiKey: 'radarr-a1b2c3d4', certificate: Buffer.from([0x30, 0x82, 0x01, 0x0a, 0x00, 0xff, 0x7f, 0x80]), settings: null, enabled: true });
  emit('Integration', { id: 'int-trakt', kind: 'trakt', name: 'Trakt', url: 'https://api.trakt.example', apiKey: 'trakt-key', certificate: null, settings: { json: { scrobble: true } }, enabled: false });
  USERS.forEach((id, i) =>
    emit('User', {
      id,
      username: id.slice(5),
      passwordHash: `$argon2id$v=19$m=65536,t=3,p=4$${Buffer.from(id).toString('base64')}$hash${i}`,
      role: i === 0 ? 'ADMIN' : i === 4 ? 'VIEWER' : 'USER',
      quotaBytes: i === 0 ? null : i === 1 ? 9_223_372_036_854_775_807n : BigInt(i) * 1_099_511_627_776n,
      createdAt: at(i),
    }),
  );
  USERS.slice(0, 3).forEach((userId, i) =>
    emit('Session', { id: `session-${i}`, userId, expiresAt: new Date(BASE_TIME + 400 * DAY + i * 1234), userAgent: i === 2 ? null : 'Mozilla/5.0 (X11; Linux x86_64)', createdAt: at(390 + i) }),
  );
}

/** Media items and everything that hangs off them, item `offset + 1` to `offset + count`. */
export function generateMedia(options: GeneratorOptions, count: number, emit: Emit): void {
  const { provider, offset, runOffset } = options;
  for (let n = offset + 1; n <= offset + count; n++) {
    const random = prng(n * 2654435761);
    const id = `item-${String(n).padStart(8, '0')}`;
    const showNumber = n - (n % 10) + 6 - 10;
    const isEpisode = n % 10 > 6 && showNumber > runOffset;
    const type = isEpisode ? 'EPISODE' : n % 10 === 6 ? 'SHOW' : 'MOVIE';
    const genres = [random.pick(GENRES), random.pick(GENRES)].filter((g, i, all) => all.indexOf(g) === i);
    const addedAt = new Date(BASE_TIME + n * 61_000 + random.int(0, 999));
    emit('MediaItem', {
      id,
      libraryId: LIBRARIES[n % 4]!,
      parentId: isEpisode ? `item-${String(showNumber).padStart(8, '0')}` : null,
      type,
      title: `${random.pick(WORDS)} ${random.pick(WORDS)}${n % 97 === 0 ? ' 🎬' : ''} (${n})`,
      year: n % 13 === 0 ? null : 1950 + (n % 75),
      // Now and then a size past 2^53, which a double would round.
      sizeBytes: n % 1000 === 7 ? 9_007_199_254_740_993n + BigInt(n) : BigInt(random.int(100, 80_000)) * 1_048_576n + BigInt(n),
      rating: n % 11 === 0 ? null : Math.round(random.next() * 100) / 10,
      genres: genres.join(','),
      addedAt,
      lastWatchedAt: n % 3 === 0 ? null : new Date(addedAt.getTime() + random.int(1, 400) * DAY),
    });
    emit('ExternalId', { mediaItemId: id, provider: 'imdb', value: `tt${String(1_000_000 + n)}` });
    emit('ExternalId', { mediaItemId: id, provider: 'tmdb', value: String(500_000 + n) });
    const streams = 2 + (n % 2);
    for (let s = 0; s < streams; s++) {
      const kind = s === 0 ? 'video' : s === 1 ? 'audio' : 'subtitle';
      const languages = [random.pick(LANGUAGES), random.pick(LANGUAGES)];
      emit('MediaStream', {
        mediaItemId: id,
        kind,
        codec: random.pick(CODECS[kind]),
        bitrate: kind === 'subtitle' ? null : random.int(96, 40_000),
        language: s === 0 ? null : languages[0]!,
        isDefault: s < 2,
      });
    }
    for (let w = 0; w < 10; w++) {
      emit('WatchHistory', {
        userId: USERS[(n + w) % USERS.length]!,
        mediaItemId: id,
        watchedAt: new Date(addedAt.getTime() + w * 3_600_000 + random.int(0, 999)),
        progress: w === 9 ? 1 : Math.round(random.next() * 1e6) / 1e6,
        completed: w % 3 === 0,
      });
    }
    for (let l = 0; l < 8; l++) {
      const level = l === 7 && n % 5 === 0 ? 'ERROR' : l % 4 === 0 ? 'DEBUG' : 'INFO';
      emit('LogEntry', {
        level,
        source: l % 2 ? 'sync' : 'lifecycle',
        message: level === 'ERROR' ? `Could not reach server for ${id}: ECONNRESET` : `Processed ${id} step ${l}`,
        meta: l % 3 === 0 ? { json: { item: id, step: l, took_ms: random.int(1, 500), tags: ['a', 'b'] } } : null,
        createdAt: new Date(addedAt.getTime() + l * 1000 + random.int(0, 999)),
      });
    }
    if (n % 10 === 3) {
      emit('RuleMatch', { ruleId: RULES[n % RULES.length]!, mediaItemId: id, matchedAt: new Date(addedAt.getTime() + 90 * DAY), score: n % 20 === 3 ? null : provider === 'sqlite' ? (n % 1000) / 7 : (n / 7).toFixed(12) });
    }
    if (n % 20 === 4) {
      emit('LifecycleAction', { mediaItemId: id, action: n % 40 === 4 ? 'DELETE' : 'UNMONITOR', scheduledFor: new Date(addedAt.getTime() + 120 * DAY), executedAt: n % 60 === 4 ? new Date(addedAt.getTime() + 121 * DAY) : null, freedBytes: n % 60 === 4 ? BigInt(n) * 1_073_741_824n : null });
    }
    if (n % 50 === 5) {
      emit('LifecycleException', { mediaItemId: id, reason: n % 100 === 5 ? 'Family favourite ❤️' : 'Requested by a user', createdBy: n % 100 === 5 ? USERS[1]! : null, expiresAt: n % 150 === 5 ? null : new Date(addedAt.getTime() + 365 * DAY) });
    }
    if (n % 1000 === 0) {
      emit('SyncJob', { serverId: SERVERS[(n / 1000) % 2]!, status: n % 3000 === 0 ? 'FAILED' : 'SUCCEEDED', startedAt: addedAt, finishedAt: new Date(addedAt.getTime() + 42_000), itemsSeen: 1000, error: n % 3000 === 0 ? 'Timed out after 30s' : null });
    }
  }
}
