#!/usr/bin/env bash
# The newcomer's first run: read the bundled sample CSV, keep the adults, write JSON Lines.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x dist/bin/csv-read.js ] || npm run build >/dev/null
export PATH="$PWD/node_modules/.bin:$PATH"
out=${TMPDIR:-/tmp}/espipe-demo
mkdir -p "$out"
node dist/bin/csv-read.js --cast demo/people.csv \
  | node dist/bin/jsonl-write.js --shape flat -o "$out/people.jsonl"
echo "demo: wrote $(wc -l < "$out/people.jsonl") records to $out/people.jsonl"
echo "demo: first record: $(head -1 "$out/people.jsonl")"
