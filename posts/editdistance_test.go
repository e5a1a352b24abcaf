package posts

import "testing"

// editDistanceTable is editDistance as first written, with the whole
// table: the oracle of the three-row editDistance.
func editDistanceTable(a, b string) int {
	if len(a) > 40 || len(b) > 40 {
		return 99
	}
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+c)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

func checkEditDistance(t *testing.T, a, b string) {
	t.Helper()
	if got, want := editDistance(a, b), editDistanceTable(a, b); got != want {
		t.Fatalf("editDistance(%q, %q) = %d, want %d", a, b, got, want)
	}
}

func TestEditDistanceRows(t *testing.T) {
	for _, p := range [][2]string{
		{"", ""}, {"titel", "title"}, {"a", ""}, {"", "abc"}, {"ca", "abc"}, {"permalink", "permalnik"},
		{"abcdefghijabcdefghijabcdefghijabcdefghij", "bacdefghijabcdefghijabcdefghijabcdefghi"},
		{"abcdefghijabcdefghijabcdefghijabcdefghijk", "a"},
	} {
		checkEditDistance(t, p[0], p[1])
		checkEditDistance(t, p[1], p[0])
	}
}

func FuzzEditDistanceRows(f *testing.F) {
	f.Add("titel", "title")
	f.Fuzz(checkEditDistance)
}
