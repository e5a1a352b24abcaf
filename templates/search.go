package templates

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
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
// two. Words shorter than minWordRunes or longer than maxWordRunes are
// left out (the script ignores shorter query terms too), except single
// CJK characters, which are words of their own.
const (
	maxShardBytes   = 96 << 10
	minWordRunes    = 2
	maxWordRunes    = 24
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

// foldWord is how the index and the script compare words: lower case,
// without accents (NFD, marks dropped), so "Café" finds "cafe".
func foldWord(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s) // returns s itself when it has no upper case
	}
	s = norm.NFD.String(strings.ToLower(s))
	return strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Mn, r) {
			return -1
		}
		return r
	}, s)
}

// isCJK says whether r is written without spaces between words: each such
// character is a word of the index.
func isCJK(r rune) bool {
	return r >= 0x1100 && unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul)
}

// searchWords calls add for every word of text, folded (see foldWord).
func searchWords(text string, add func(string)) {
	start := -1
	flush := func(end int) {
		if start < 0 {
			return
		}
		w := foldWord(text[start:end])
		start = -1
		if n := utf8.RuneCountInString(w); n >= minWordRunes && n <= maxWordRunes {
			add(w)
		}
	}
	for i, r := range text {
		switch {
		case r < utf8.RuneSelf:
			if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' {
				if start < 0 {
					start = i
				}
			} else {
				flush(i)
			}
		case isCJK(r):
			flush(i)
			add(string(r))
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r):
			if start < 0 {
				start = i
			}
		default:
			flush(i)
		}
	}
	flush(len(text))
}

// appendSearchWords calls add for every word of text, folded, exactly as
// searchWords does, without allocating for words of ASCII letters and
// digits, the most of a text: the word add gets is only valid during the
// call, and add must not change it. buf is text with its ASCII letters in
// lower case, whose slices are those words; it is returned for the next
// call to reuse. Other words go through searchWords's folding (ASCII
// letters in lower case first fold the same).
func appendSearchWords(buf []byte, text string, add func([]byte)) []byte {
	buf = slices.Grow(buf[:0], len(text))[:len(text)]
	for i := 0; i < len(text); i++ {
		c := text[i]
		buf[i] = c | asciiCase[c]
	}
	var other []byte // a word outside ASCII, folded
	addOther := func(w string) { other = append(other[:0], w...); add(other) }
	i := 0
	for i < len(buf) {
		c := buf[i]
		if !isASCIIWordByte(c) {
			if c < utf8.RuneSelf {
				i++
				continue
			}
			// a word, or CJK, or a separator outside ASCII: searchWords's way
			// from here to the next ASCII separator (a word never spans one)
			j := i + 1
			for j < len(buf) && (buf[j] >= utf8.RuneSelf || isASCIIWordByte(buf[j])) {
				j++
			}
			searchWords(text[i:j], addOther)
			i = j
			continue
		}
		j := i + 1
		for j < len(buf) && isASCIIWordByte(buf[j]) {
			j++
		}
		if j < len(buf) && buf[j] >= utf8.RuneSelf {
			// the word goes on outside ASCII (or meets CJK): searchWords's way
			// to the next ASCII separator
			for j < len(buf) && (buf[j] >= utf8.RuneSelf || isASCIIWordByte(buf[j])) {
				j++
			}
			searchWords(text[i:j], addOther)
			i = j
			continue
		}
		if n := j - i; n >= minWordRunes && n <= maxWordRunes {
			add(buf[i:j:j])
		}
		i = j
	}
	return buf
}

// asciiWord is 1 at the ASCII letters and digits; asciiCase is the bit
// that turns an ASCII upper-case letter into lower case at the letter, 0
// elsewhere.
var asciiWord, asciiCase = func() (w, c [256]byte) {
	for b := 0; b < 256; b++ {
		switch {
		case 'a' <= b && b <= 'z', '0' <= b && b <= '9':
			w[b] = 1
		case 'A' <= b && b <= 'Z':
			w[b] = 1
			c[b] = 'a' - 'A'
		}
	}
	return w, c
}()

func isASCIIWordByte(c byte) bool { return asciiWord[c] != 0 }

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
	for p, data := range b.search.files {
		b.add(p, data)
	}
	b.add(searchScriptPath, searchScript)
	return b.searchPage(b.search.version)
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
