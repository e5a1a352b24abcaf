#!/usr/bin/env bash
# Builds the same N-post blog (bodies from the shared Jekyll corpus) with
# `publishbot build` and with Hugo (Debian's package: apt-get install hugo)
# using a minimal theme that does the same work (post pages, a paginated
# index grouped by year with summaries, tag pages, feeds, sitemap), and
# prints wall time and max RSS of each, twice. Usage: scripts/bench-vs-hugo.sh [N]
set -euo pipefail
n=${1:-10000}
root=$(cd "$(dirname "$0")/.." && pwd)
corpus=$root/../shared/testdata/corpus/jekyll
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
command -v hugo >/dev/null || { echo "hugo not installed (apt-get install hugo)"; exit 2; }

mkdir -p "$work/blog/posts" "$work/hugo/content/posts" "$work/hugo/layouts/_default"
python3 - "$corpus" "$work/blog" "$n" <<'PY'
import datetime, glob, sys
corpus, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
bodies = []
for f in sorted(glob.glob(corpus + '/*')):
    s = open(f, encoding='utf-8').read()
    if s.startswith('---\n'):
        s = s[4:]; s = s[s.find('\n---\n') + 5:]
    bodies.append(s)
open(out + '/publish.yaml', 'w').write('title: Big\nbase_url: https://acme.github.io/big/\n')
d0 = datetime.date(2000, 1, 1)
for i in range(n):
    d = d0 + datetime.timedelta(days=i)
    open(f'{out}/posts/{d}-post-{i:05d}.md', 'w').write(
        f'---\ntitle: Post {i}\ndate: {d}\ntags: [t{i % 20}]\n---\n\n' + bodies[i % len(bodies)])
PY
cp "$work"/blog/posts/*.md "$work/hugo/content/posts/"
cat > "$work/hugo/config.toml" <<'EOF'
baseURL = "https://acme.github.io/big/"
title = "Big"
paginate = 8
[markup.highlight]
noClasses = false
EOF
cat > "$work/hugo/layouts/_default/baseof.html" <<'EOF'
<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ .Title }}</title><link rel="canonical" href="{{ .Permalink }}"></head><body><main>{{ block "main" . }}{{ end }}</main></body></html>
EOF
cat > "$work/hugo/layouts/_default/single.html" <<'EOF'
{{ define "main" }}<article><h1>{{ .Title }}</h1><time>{{ .Date.Format "Jan 2, 2006" }}</time> · {{ .ReadingTime }} min read<ul>{{ range .Params.tags }}<li>{{ . }}</li>{{ end }}</ul>{{ .Content }}</article>{{ with .PrevInSection }}<a href="{{ .RelPermalink }}">{{ .Title }}</a>{{ end }}{{ end }}
EOF
cat > "$work/hugo/layouts/_default/list.html" <<'EOF'
{{ define "main" }}<h1>{{ .Title }}</h1>{{ $p := .Paginate .Pages }}{{ range $p.Pages.GroupByDate "2006" }}<h2>{{ .Key }}</h2>{{ range .Pages }}<h3><a href="{{ .RelPermalink }}">{{ .Title }}</a></h3><p>{{ .Summary | plainify }}</p><time>{{ .Date.Format "Jan 2, 2006" }}</time>{{ end }}{{ end }}<p>Page {{ $p.PageNumber }} of {{ $p.TotalPages }}</p>{{ end }}
EOF
sed 's/.Paginate .Pages/.Paginate (where .Site.RegularPages "Section" "posts")/' \
  "$work/hugo/layouts/_default/list.html" > "$work/hugo/layouts/index.html"

(cd "$root" && go build -o "$work/publishbot" ./cmd/publishbot)
echo "$n posts; wall seconds and max RSS (KB), two runs each:"
for i in 1 2; do
  rm -rf "$work/out-pb" "$work/out-hugo"
  /usr/bin/time -f "publishbot build  %e s  %M KB" "$work/publishbot" build -o "$work/out-pb" "$work/blog" 2>&1 >/dev/null | tail -1
  (cd "$work/hugo" && /usr/bin/time -f "hugo $(hugo version | cut -d' ' -f2)  %e s  %M KB" hugo --quiet -d "$work/out-hugo" 2>&1 | tail -1)
done
