// Relay pagination over an in-memory list whose items have stable ids: cursors are the
// ids themselves, so a new backup does not shift anyone's page.
import { GraphQLError } from 'graphql';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

interface PageArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

export function paginate<T extends { id: string }>(items: T[], args: PageArgs) {
  const indexOf = (cursor: string, name: string) => {
    const index = items.findIndex((item) => item.id === cursor);
    if (index < 0) throw new GraphQLError(`${name}: no item has cursor ${JSON.stringify(cursor)}`);
    return index;
  };
  for (const [name, value] of [
    ['first', args.first],
    ['last', args.last],
  ] as const) {
    if (value != null && (value < 0 || value > MAX_PAGE_SIZE)) {
      throw new GraphQLError(`${name} must be between 0 and ${MAX_PAGE_SIZE}`);
    }
  }
  let start = args.after ? indexOf(args.after, 'after') + 1 : 0;
  let end = args.before ? indexOf(args.before, 'before') : items.length;
  if (args.first != null) end = Math.min(end, start + args.first);
  else if (args.last == null) end = Math.min(end, start + DEFAULT_PAGE_SIZE);
  if (args.last != null) start = Math.max(start, end - args.last);
  const page = items.slice(start, end);
  return {
    totalCount: items.length,
    edges: page.map((node) => ({ cursor: node.id, node })),
    pageInfo: {
      hasNextPage: end < items.length,
      hasPreviousPage: start > 0,
      startCursor: page[0]?.id ?? null,
      endCursor: page.at(-1)?.id ?? null,
    },
  };
}
