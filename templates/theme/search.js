// publishbot search: searches the site's own index (search/index.json and
// the word shards search/<key>.json) in the reader's browser. It loads
// nothing from any other host, and only the shards the query's words need.
(() => {
  "use strict";
  const form = document.querySelector("form.search");
  if (!form) return;
  const input = form.querySelector("input");
  const status = document.getElementById("search-status");
  const list = document.getElementById("search-results");
  const base = form.dataset.base;
  const indexURL = form.dataset.index;
  const version = indexURL.slice(indexURL.indexOf("?"));
  const words = JSON.parse(form.dataset.strings);
  const maxResults = 50;
  const minRunes = 2;

  let index = null; // {docs, shards, split}
  const shards = new Map(); // key -> Promise of {w, p}

  const fold = (s) => s.toLowerCase().normalize("NFD").replace(/\p{Mn}/gu, "");
  const cjk = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
  const wordChar = /[\p{L}\p{N}]/u;

  // terms splits a query the way the build splits text into words.
  function terms(q) {
    const out = [];
    let cur = "";
    const flush = () => {
      if ([...cur].length >= minRunes) out.push(cur);
      cur = "";
    };
    for (const ch of fold(q)) {
      if (cjk.test(ch)) {
        flush();
        out.push(ch);
      } else if (wordChar.test(ch)) {
        cur += ch;
      } else {
        flush();
      }
    }
    flush();
    return [...new Set(out)];
  }

  function runeKey(ch) {
    const c = ch.codePointAt(0);
    if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57)) return ch;
    return "_" + (c >> 6).toString(36);
  }

  // shardKey is the shard of the words that start with term: "" for the
  // one shard of a small site, else by its first character, or its first
  // two where that shard was split (as the build's shardKey).
  function shardKey(term) {
    if (!index.split.includes("")) return "";
    const chars = [...term];
    let key = runeKey(chars[0]);
    if (index.split.includes(key) && chars.length > 1) key += runeKey(chars[1]);
    return key;
  }

  function fetchJSON(url) {
    return fetch(url, { credentials: "same-origin" }).then((r) => {
      if (!r.ok) throw new Error(url + ": " + r.status);
      return r.json();
    });
  }

  function shard(key) {
    if (!index.shards.includes(key)) return Promise.resolve({ w: [], p: [] });
    if (!shards.has(key)) shards.set(key, fetchJSON(base + "search/" + (key || "words") + ".json" + version));
    return shards.get(key);
  }

  // postsOf is the set of posts that have a word starting with term (or,
  // for a single CJK character, that character).
  function postsOf(term, s) {
    const found = new Set();
    let lo = 0, hi = s.w.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (s.w[mid] < term) lo = mid + 1; else hi = mid;
    }
    const exact = [...term].length === 1;
    for (let i = lo; i < s.w.length && s.w[i].startsWith(term); i++) {
      if (exact && s.w[i] !== term) continue;
      let id = 0;
      for (const gap of s.p[i]) {
        id += gap;
        found.add(id);
      }
    }
    return found;
  }

  function fill(template, ...args) {
    let i = 0;
    return template.replace(/%[sd]/g, () => String(args[i++]));
  }

  function render(q, ids) {
    list.replaceChildren();
    if (ids === null) {
      status.textContent = "";
      return;
    }
    let msg = ids.length === 0 ? fill(words.none, q) : fill(words.count, q, ids.length);
    if (ids.length > maxResults) msg += " " + fill(words.more, maxResults);
    status.textContent = msg;
    const frag = document.createDocumentFragment();
    for (const id of ids.slice(0, maxResults)) {
      const [title, url, date, tags, summary] = index.docs[id];
      const li = document.createElement("li");
      li.className = "post-item";
      const h = document.createElement("h2");
      const a = document.createElement("a");
      a.href = base + url;
      a.textContent = title;
      h.append(a);
      li.append(h);
      if (summary) {
        const p = document.createElement("p");
        p.textContent = summary;
        li.append(p);
      }
      const meta = document.createElement("p");
      meta.className = "meta";
      const t = document.createElement("span");
      t.textContent = date;
      meta.append(t);
      if (tags) {
        const g = document.createElement("span");
        g.textContent = tags;
        meta.append(g);
      }
      li.append(meta);
      frag.append(li);
    }
    list.append(frag);
  }

  let latest = 0;
  async function search(q) {
    const n = ++latest;
    const ts = terms(q);
    if (ts.length === 0) {
      render(q, null);
      return;
    }
    let loaded;
    try {
      loaded = await Promise.all(ts.map((t) => shard(shardKey(t))));
    } catch (e) {
      if (n === latest) status.textContent = words.failed;
      return;
    }
    if (n !== latest) return; // a newer query is on its way
    let hits = null;
    ts.forEach((t, i) => {
      const found = postsOf(t, loaded[i]);
      hits = hits === null ? found : new Set([...hits].filter((id) => found.has(id)));
    });
    // Rank: a term in the title counts most, then in the tags; newer
    // posts (lower numbers) first among equals.
    const score = new Map();
    for (const id of hits) {
      const [title, , , tags] = index.docs[id];
      const ft = fold(title), fg = fold(tags);
      let s = 0;
      for (const t of ts) s += ft.includes(t) ? 10 : fg.includes(t) ? 5 : 1;
      score.set(id, s);
    }
    const ids = [...hits].sort((a, b) => score.get(b) - score.get(a) || a - b);
    render(q, ids);
  }

  function onInput() {
    const q = input.value.trim();
    const url = new URL(location.href);
    if (q) url.searchParams.set("q", q); else url.searchParams.delete("q");
    history.replaceState(null, "", url);
    search(q);
  }

  // Keyboard: arrow down from the field to the results and between them,
  // arrow up back, Escape to the field (and, there, clears it).
  function links() { return [...list.querySelectorAll("a")]; }
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const first = links()[0];
    if (first) first.focus();
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown") {
      const first = links()[0];
      if (first) { e.preventDefault(); first.focus(); }
    } else if (e.key === "Escape" && input.value) {
      e.preventDefault();
      input.value = "";
      onInput();
    }
  });
  list.addEventListener("keydown", (e) => {
    const all = links();
    const i = all.indexOf(document.activeElement);
    if (i < 0) return;
    if (e.key === "ArrowDown" && i + 1 < all.length) { e.preventDefault(); all[i + 1].focus(); }
    else if (e.key === "ArrowUp") { e.preventDefault(); (i > 0 ? all[i - 1] : input).focus(); }
    else if (e.key === "Escape") { e.preventDefault(); input.focus(); }
  });

  form.hidden = false;
  status.textContent = words.loading;
  fetchJSON(indexURL).then((data) => {
    index = data;
    status.textContent = "";
    input.addEventListener("input", onInput);
    const q = new URL(location.href).searchParams.get("q");
    if (q) {
      input.value = q;
      search(q.trim());
    }
    input.focus();
  }, () => { status.textContent = words.failed; });
})();
