package publisher

import (
	"testing"
	"time"

	"github.com/publishbot/publishbot/posts"
)

// The next publish is the earliest moment a post that is not a draft goes
// live (its date, or a later publishDate) or expires.
func TestNextPublish(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	day := func(d int) time.Time { return now.AddDate(0, 0, d) }
	for _, tc := range []struct {
		name  string
		posts []*posts.Post
		want  time.Time
	}{
		{"nothing ahead", []*posts.Post{{Date: day(-3)}}, time.Time{}},
		{"a future post", []*posts.Post{{Date: day(5), Future: true}, {Date: day(9), Future: true}}, day(5)},
		{"a draft waits for nobody", []*posts.Post{{Date: day(2), Future: true, Draft: true}, {Date: day(7), Future: true}}, day(7)},
		{"a later publishDate", []*posts.Post{{Date: day(-1), PublishDate: day(4), Future: true}}, day(4)},
		{"an expiry", []*posts.Post{{Date: day(-10), Expires: day(3)}, {Date: day(6), Future: true}}, day(3)},
		{"an expiry after going live", []*posts.Post{{Date: day(2), Expires: day(8), Future: true}}, day(2)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := nextPublish(&posts.Site{Posts: tc.posts}, now); !got.Equal(tc.want) {
				t.Errorf("next publish %v, want %v", got, tc.want)
			}
		})
	}
}
