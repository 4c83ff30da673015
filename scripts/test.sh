#!/usr/bin/env bash
# The whole test suite (`npm test`): typed operations are generated first, so tests
# always run against the committed schema.graphql, and the build `npm start` runs is
# compiled (one test starts it). Extra arguments pick test files.
set -euo pipefail
cd "$(dirname "$0")/.."
npx graphql-codegen --config codegen.ts
npx tsc -p tsconfig.build.json
if [ $# -eq 0 ]; then set -- test/unit/*.test.ts test/integration/*.test.ts; fi
exec node --import tsx --test --test-concurrency=1 --test-timeout=600000 "$@"
