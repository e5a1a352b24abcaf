package posts

import (
	"fmt"
	"time"
)

// schedule reads Hugo's publishDate (when it is not already the post's
// date) and expiryDate into p. A publishDate later than the date holds the
// post back until then; an earlier one changes nothing.
func schedule(p *Post, meta *postMeta, dateVal, publishVal, expiryVal *fmValue, loc *time.Location,
	add func(line, col int, code, format string, args ...any)) {
	read := func(key string, v *fmValue) (time.Time, bool) {
		if v == nil || v.kind == vNull {
			return time.Time{}, false
		}
		t, _, ok := fieldDate(v, loc)
		if !ok {
			add(v.line, v.col, CodeInvalidDate, "%s %s is not a date%s; use 2006-01-02, 2006-01-02T15:04:05Z07:00 or 2006-01-02 15:04:05 -0700", key, describe(v), dateHint(v))
			return time.Time{}, false
		}
		return t.In(loc), true
	}
	if publishVal != dateVal {
		if t, ok := read("publishDate", publishVal); ok && t.After(p.Date) {
			p.PublishDate = t
		}
	}
	if t, ok := read("expiryDate", expiryVal); ok {
		p.Expires = t
		meta.expiryLine, meta.expiryCol = expiryVal.line, expiryVal.col
	}
}

// checkSchedule decides, at l.now, whether a post is Future and whether
// it has expired. An expired post is left out with an expired warning:
// the author asked for it, so it is not an error, but the warning says why
// a post of the repository is not on the site.
func (l *loader) checkSchedule(res *postResult) {
	p := res.post
	p.Future = p.Date.After(l.now) || p.PublishDate.After(l.now)
	if !p.Expires.IsZero() && !p.Expires.After(l.now) && !res.hasError {
		res.expired, res.hasError = true, true
		res.noRender() // not rendered: it is not published
		res.add(res.meta.expiryLine, res.meta.expiryCol, CodeExpired,
			fmt.Sprintf("this post expired on %s (expiryDate) and is left out of the site; remove expiryDate to publish it again", p.Expires.Format("Jan 2, 2006 15:04 MST")))
	}
}

// NextChange is the first moment after now at which the post's place on
// the site changes: it goes live (Date, or a later PublishDate) or it
// expires (Expires). It is zero when nothing about the post changes after
// now. A publisher schedules a rebuild at the earliest NextChange of its
// posts.
func (p *Post) NextChange(now time.Time) time.Time {
	live := p.Date
	if p.PublishDate.After(live) {
		live = p.PublishDate
	}
	var next time.Time
	for _, t := range []time.Time{live, p.Expires} {
		if t.After(now) && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	return next
}
