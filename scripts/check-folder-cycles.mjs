// Fails when folders import each other in a cycle, each folder counted on its own (a
// sub-folder is not part of its parent). dependency-cruiser reads the imports; its own
// folder rules count a sub-folder as part of its parent, so engine/ ↔ engine/sqlite/
// would pass there. Reads `depcruise -T json` on stdin.
import { readFileSync } from 'node:fs';
import path from 'node:path';

const { modules } = JSON.parse(readFileSync(0, 'utf8'));
const edges = new Map();
for (const module of modules) {
  const from = path.dirname(module.source);
  if (!from.startsWith('src')) continue;
  for (const dependency of module.dependencies) {
    const to = path.dirname(dependency.resolved);
    if (to === from || !to.startsWith('src')) continue;
    if (!edges.has(from)) edges.set(from, new Set());
    edges.get(from).add(to);
  }
}

// Tarjan's strongly connected components: any with two folders or more is a cycle.
const index = new Map();
const low = new Map();
const stack = [];
const onStack = new Set();
const cycles = [];
let next = 0;
function visit(folder) {
  index.set(folder, next);
  low.set(folder, next++);
  stack.push(folder);
  onStack.add(folder);
  for (const to of edges.get(folder) ?? []) {
    if (!index.has(to)) {
      visit(to);
      low.set(folder, Math.min(low.get(folder), low.get(to)));
    } else if (onStack.has(to)) low.set(folder, Math.min(low.get(folder), index.get(to)));
  }
  if (low.get(folder) !== index.get(folder)) return;
  const component = [];
  let member;
  do {
    member = stack.pop();
    onStack.delete(member);
    component.push(member);
  } while (member !== folder);
  if (component.length > 1) cycles.push(component.sort());
}
for (const folder of edges.keys()) if (!index.has(folder)) visit(folder);

if (cycles.length > 0) {
  for (const cycle of cycles) console.error(`folder cycle: ${cycle.join(' ↔ ')}`);
  process.exit(1);
}
console.log(`no folder cycles (${edges.size} folders with imports)`);
