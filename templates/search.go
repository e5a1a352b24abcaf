package templates

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// searchScript is the search page's script: it fetches the index parts a
// query needs from the same site and searches them in the reader's
// browser. No other page loads it.
//
//go:embed theme/search.js
var searchScript []byte

// Site paths of the search page and its files.
const (
	searchDir        = "search/"
	searchScriptPath = "assets/search.js"
	searchIndexPath  = searchDir + "index.json" // the posts and the list of word shards
)

// Bounds of the search index. A word shard holds the words that start
// with one character; one larger than maxShardBytes is split by the first
// two. What a word is: package searchwords.
const (
	maxShardBytes   = 96 << 10
	searchSummaries = maxDescription // characters of summary per post
)

// searchIndex is search/index.json: what the results show of each post,
// newest first (a post's number is its place in Docs), and the keys of
// the word shards (search/<key>.json).
type searchIndex struct {
	Version int         `json:"v"`
	Docs    [][5]string `json:"docs"` // title, address relative to the site's base path, date, tags, summary
	Shards  []string    `json:"shards"`
	Split   []string    `json:"split"` // keys whose words are sharded further: "" for more than one shard, one character for two
}

// searchShard is search/<key>.json: sorted words, and for each the
// numbers of the posts that use it, as gaps from the previous number.
type searchShard struct {
	Words []string `json:"w"`
	Posts [][]int  `json:"p"`
}

// shardKey is the shard of a word: "" (all words in one shard) unless
// that shard was split, then its first character, or its first two when
// the one-character shard was split too. Characters outside ASCII letters
// and digits share shards by blocks of 64 code points, so that a CJK text
// does not make thousands of files.
func shardKey(word string, split map[string]bool) string {
	if !split[""] {
		return ""
	}
	r, size := utf8.DecodeRuneInString(word)
	key := runeKey(r)
	if split[key] && size < len(word) {
		r2, _ := utf8.DecodeRuneInString(word[size:])
		key += runeKey(r2)
	}
	return key
}

func runeKey(r rune) string {
	if r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
		return string(r)
	}
	return "_" + strconv.FormatInt(int64(r>>6), 36)
}

// searchFiles writes the search page's index and script (search: true).
// The index is the posts this render shows, built since startSearch; its
// files are named by their content's hash in the page, so a reader never
// mixes two builds.
func (b *build) searchFiles() error {
	if !b.cfg.Search {
		return nil
	}
	b.waitSearch()
	if b.search.err != nil {
		return b.search.err
	}
	res := b.search.res
	for p, data := range res.files {
		if k, ok := res.keys[p]; ok && b.keyer != nil {
			b.addKeyed(p, data, k, true, false)
		} else {
			b.add(p, data)
		}
	}
	for _, p := range res.kept {
		b.addKeyed(p, nil, res.keys[p], true, true)
	}
	b.add(searchScriptPath, searchScript)
	return b.searchPage(res.version)
}

// shardPath is the site path of the shard of key: search/<key>.json, and
// search/words.json for the one shard of a small site.
func shardPath(key string) string {
	if key == "" {
		key = "words"
	}
	return searchDir + key + ".json"
}

// searchPage writes search/index.html; version names the index's build.
func (b *build) searchPage(version string) error {
	title := b.loc.T("search")
	if b.site.Title != "" {
		title += " · " + b.site.Title
	}
	pg := b.page("search", title, b.loc.T("search_description", b.site.Title), searchDir)
	pg.Search = &SearchData{
		IndexURL:  b.base + searchIndexPath + "?v=" + version,
		ScriptURL: b.base + searchScriptPath + "?v=" + scriptVersion(),
		Strings:   b.searchStrings(),
	}
	data, err := b.tpl.execute(tplSearch, pg, 4<<10)
	if err != nil {
		return err
	}
	b.add(searchDir+"index.html", data)
	b.addPage(searchDir, newest(b.posts))
	return nil
}

// SearchData is what the search page needs besides Page.
type SearchData struct {
	IndexURL  string // URL path of search/index.json, with its version
	ScriptURL string // URL path of the script, with its version
	Strings   string // the script's words, as JSON
}

// scriptVersion names the script's bytes, so a changed script is fetched anew.
func scriptVersion() string {
	sum := sha256.Sum256(searchScript)
	return hex.EncodeToString(sum[:4])
}

// searchStrings are the words the script writes, in the site's language,
// as JSON for a data attribute.
func (b *build) searchStrings() string {
	m := map[string]string{}
	for _, key := range []string{"search_none", "search_count", "search_more", "search_loading", "search_failed"} {
		m[strings.TrimPrefix(key, "search_")] = b.loc.T(key)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(m) // a map of strings always encodes
	return strings.TrimSpace(buf.String())
}
