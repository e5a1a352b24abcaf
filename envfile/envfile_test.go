package envfile

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	in := "\ufeff# written by setup\n\nPUBLISHBOT_APP_ID=12\r\nexport PUBLISHBOT_DATA_DIR = /data \nA='x y'\nB=\"q\"\nC=\nD=a=b # not a comment\n"
	vars, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Var{{"PUBLISHBOT_APP_ID", "12", 3}, {"PUBLISHBOT_DATA_DIR", "/data", 4}, {"A", "x y", 5}, {"B", "q", 6}, {"C", "", 7}, {"D", "a=b # not a comment", 8}}
	if len(vars) != len(want) {
		t.Fatalf("got %v, want %v", vars, want)
	}
	for i := range want {
		if vars[i] != want[i] {
			t.Errorf("var %d = %+v, want %+v", i, vars[i], want[i])
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"A=1\nnot a variable\n", "line 2: want NAME=value"},
		{"1A=x\n", "line 1: \"1A\" is not a variable name"},
		{"A=1\nA=2\n", "line 2: A is already set on line 1"},
		{"SECRET=\"hunter2\n", "line 1: SECRET: the value's quote is not closed"},
		{strings.Repeat("#", MaxSize+1), "larger than"},
	} {
		_, err := Parse(strings.NewReader(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%.20q) = %v, want %q", tc.in, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error quotes the value: %v", err)
		}
	}
}

func TestFormatRoundTrip(t *testing.T) {
	vars := []Var{{Name: "PUBLISHBOT_APP_ID", Value: "42"}, {Name: "PUBLISHBOT_APP_PRIVATE_KEY_FILE", Value: "github-app.pem"}}
	b, err := Format([]string{"written by a test", ""}, vars)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), "# written by a test\n#\nPUBLISHBOT_APP_ID=42\nPUBLISHBOT_APP_PRIVATE_KEY_FILE=github-app.pem\n"; got != want {
		t.Errorf("Format = %q, want %q", got, want)
	}
	back, err := Parse(strings.NewReader(string(b)))
	if err != nil || len(back) != 2 || back[1].Value != "github-app.pem" {
		t.Errorf("Parse(Format) = %v, %v", back, err)
	}
	for _, bad := range []Var{{Name: "A", Value: "x\ny"}, {Name: "A B", Value: "x"}, {Name: "A", Value: " x"}, {Name: "A", Value: `"x"`}} {
		if _, err := Format(nil, []Var{bad}); err == nil {
			t.Errorf("Format(%+v) accepted", bad)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("A=1\n# c\nexport B='2'\n")
	f.Add("=\n")
	f.Fuzz(func(t *testing.T, in string) {
		vars, err := Parse(strings.NewReader(in))
		if err != nil {
			return
		}
		for _, v := range vars {
			if !validName.MatchString(v.Name) || v.Line < 1 {
				t.Fatalf("bad var %+v", v)
			}
		}
	})
}
