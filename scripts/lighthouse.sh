#!/usr/bin/env bash
# Lighthouse on the example blog, by hand (not in CI: its timings are noisy
# on a shared machine). Builds examples/blog for a loopback address, serves
# it from 127.0.0.1 under /blog/ as GitHub Pages would, and runs Lighthouse
# 12 (mobile, the default form factor) on the index and a post with images,
# three times each, in headless Chromium; prints the median score of each
# category.
#
#   scripts/lighthouse.sh                 # index and the photo post
#   scripts/lighthouse.sh posts/hello-world/ tags/go/
#
# Needs node (20 or newer), python3 and chromium. LIGHTHOUSE overrides the
# command (default: npx --yes lighthouse@12.8.2), CHROME_PATH the browser,
# PORT the port (default 8765), RUNS the number of runs (default 3).
set -euo pipefail
cd "$(dirname "$0")/.."

port="${PORT:-8765}"
runs="${RUNS:-3}"
lighthouse="${LIGHTHOUSE:-npx --yes lighthouse@12.8.2}"
export CHROME_PATH="${CHROME_PATH:-$(command -v chromium || command -v chromium-browser || command -v google-chrome)}"
pages=("$@")
if [ ${#pages[@]} -eq 0 ]; then
  pages=("" "posts/mapping-the-office-network/")
fi

work="$(mktemp -d)"
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

base="http://127.0.0.1:$port/blog/"
go run ./cmd/publishbot build --base-url "$base" -o "$work/site/blog" examples/blog >/dev/null
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$work/site" >/dev/null 2>&1 &
server=$!
for _ in $(seq 50); do
  if curl -fs -o /dev/null "$base" 2>/dev/null; then break; fi
  sleep 0.1
done

printf '%-40s %12s %14s %15s %6s\n' page performance accessibility best-practices seo
for page in "${pages[@]}"; do
  rm -f "$work"/run-*.json
  for i in $(seq "$runs"); do
    $lighthouse "$base$page" --quiet --output=json --output-path="$work/run-$i.json" \
      --only-categories=performance,accessibility,best-practices,seo \
      --chrome-flags="--headless=new --no-sandbox --disable-gpu" >/dev/null 2>&1
  done
  PAGE="/blog/$page" node -e '
    const fs = require("fs");
    const runs = process.argv.slice(2).map(f => JSON.parse(fs.readFileSync(f)));
    const median = k => {
      const v = runs.map(r => Math.round(r.categories[k].score * 100)).sort((a, b) => a - b);
      return v[(v.length - 1) >> 1];
    };
    const cats = ["performance", "accessibility", "best-practices", "seo"];
    const failed = [];
    for (const r of runs) for (const a of Object.values(r.audits))
      if (a.score !== null && a.score < 1 && a.scoreDisplayMode !== "informative" && a.scoreDisplayMode !== "manual" && !failed.includes(a.id)) failed.push(a.id);
    console.log(process.env.PAGE.padEnd(40), ...cats.map(c => String(median(c)).padStart(c.length + 1)));
    if (failed.length) console.log("  below 1 in some run:", failed.join(", "));
  ' "$work"/run-*.json
done
