package posts

import (
	"testing"
	"time"
)

func TestParseLooseTimestamp(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	tests := []struct {
		in    string
		want  string // RFC 3339
		zoned bool
	}{
		{"2015-03-17 14:00:00 -4", "2015-03-17T14:00:00-04:00", true},
		{"2016-03-23 9:00:00 -4", "2016-03-23T09:00:00-04:00", true},
		{"2016-03-23 9:00 -04", "2016-03-23T09:00:00-04:00", true},
		{"2016-03-23T09:00:00-0400", "2016-03-23T09:00:00-04:00", true},
		{"2016-03-23 09:00:00 -04:00", "2016-03-23T09:00:00-04:00", true},
		{"2016-03-23 09:00:00Z", "2016-03-23T09:00:00Z", true},
		{"2016-03-23 09:00:00 UTC", "2016-03-23T09:00:00Z", true},
		{"2016-03-23 09:00:00 PST", "2016-03-23T09:00:00-08:00", true},
		{"2001-12-14t21:59:43.10-05:00", "2001-12-14T21:59:43.1-05:00", true},
		{"2001-12-14 21:59:43.10 -5", "2001-12-14T21:59:43.1-05:00", true},
		{"2016-03-02 9:05", "2016-03-02T09:05:00-05:00", false},
		{"2016-03-23", "2016-03-23T00:00:00-04:00", false},
		{"2020-07-27\t10:00:00 +0530", "2020-07-27T10:00:00+05:30", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, zoned, ok := parseLooseTimestamp(tt.in, ny)
			if !ok {
				t.Fatal("not read")
			}
			if got.Format(time.RFC3339Nano) != tt.want || zoned != tt.zoned {
				t.Errorf("= %s zoned=%v, want %s zoned=%v", got.Format(time.RFC3339Nano), zoned, tt.want, tt.zoned)
			}
		})
	}
	for _, bad := range []string{"", "2023-01-29 18:30:22 2023 -0800", "2023-02-30 10:00", "2023-13-01 10:00", "2023-01-01 25:00",
		"2023-01-01 10:00 +99", "2023-01-01 10:00 XYZ", "yesterday", "2023/01/01 10:00", "2016-3-2 9:05", "2023-01-01 10:00 -123456"} {
		if _, _, ok := parseLooseTimestamp(bad, time.UTC); ok {
			t.Errorf("%q was read", bad)
		}
	}
}

func FuzzParseLooseTimestamp(f *testing.F) {
	for _, s := range []string{"2015-03-17 14:00:00 -4", "2016-03-02 9:05", "2001-12-14t21:59:43.10-05:00", "2020-01-01 10:00 PST"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, _, ok := parseLooseTimestamp(s, time.UTC)
		if ok && (got.Year() < 0 || got.Year() > 9999) {
			t.Fatalf("%q gave year %d", s, got.Year())
		}
	})
}
