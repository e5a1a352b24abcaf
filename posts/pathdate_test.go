package posts

import (
	"regexp"
	"testing"
	"time"
)

// pathDateOracle is pathDate as a regular expression (as it was written
// first): the first YYYY/MM/DD run of segments.
var pathDateOracle = regexp.MustCompile(`(?:^|/)(\d{4})/(\d{2})/(\d{2})(?:/|$)`)

func oraclePathDate(p string, loc *time.Location) time.Time {
	m := pathDateOracle.FindStringSubmatch(p)
	if m == nil {
		return time.Time{}
	}
	t, err := time.ParseInLocation("2006-01-02", m[1]+"-"+m[2]+"-"+m[3], loc)
	if err != nil {
		return time.Time{}
	}
	return t
}

func TestPathDate(t *testing.T) {
	for p, want := range map[string]string{
		"inside-rust/2020/07/27/x":  "2020-07-27",
		"2020/07/27/x":              "2020-07-27",
		"2020/07/27":                "2020-07-27",
		"/2020/07/27/":              "2020-07-27",
		"a/12020/07/27/x":           "",
		"a/2020/07/271/x":           "",
		"a/2020/7/27/x":             "",
		"a/2020/13/27/x/2021/01/01": "", // the first run is no date
		"a/x2020/07/27/2021/01/02":  "2021-01-02",
		"2020-07-27-x":              "",
		"":                          "",
	} {
		got := pathDate(p, time.UTC)
		if want == "" {
			if !got.IsZero() {
				t.Errorf("pathDate(%q) = %v, want none", p, got)
			}
			continue
		}
		if got.Format("2006-01-02") != want {
			t.Errorf("pathDate(%q) = %v, want %s", p, got, want)
		}
		if o := oraclePathDate(p, time.UTC); !o.Equal(got) {
			t.Errorf("pathDate(%q) = %v, the expression gives %v", p, got, o)
		}
	}
}

// FuzzPathDate: pathDate finds what the regular expression it replaced
// finds, for any path a front matter can give.
func FuzzPathDate(f *testing.F) {
	for _, p := range []string{"inside-rust/2020/07/27/x", "2020/07/27", "a/2020/13/27/x/2021/01/01", "/0000/00/00/", "1999/12/31/1999/12/31"} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if got, want := pathDate(p, time.UTC), oraclePathDate(p, time.UTC); !got.Equal(want) {
			t.Fatalf("pathDate(%q) = %v, the expression gives %v", p, got, want)
		}
	})
}
