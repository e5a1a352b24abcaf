package posts

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// DefaultRelated is the number of related posts under each post when
// publish.yaml does not say related.
const DefaultRelated = 3

// maxRelated bounds related: a list longer than this is no longer "related".
const maxRelated = 20

// readerSetting reads the publish.yaml keys of the reader features (search,
// related, social_image) into cfg. It returns "" for a value it took, or
// what is wrong with it.
func readerSetting(cfg *Config, key string, v *fmValue) string {
	s := strings.TrimSpace(v.s)
	switch key {
	case "search":
		if v.kind == vScalar {
			switch strings.ToLower(s) {
			case "true":
				cfg.Search = true
				return ""
			case "false":
				cfg.Search = false
				return ""
			}
		}
		return fmt.Sprintf("must be true or false, not %s", describe(v))
	case "related":
		if v.kind == vScalar && strings.EqualFold(s, "false") {
			cfg.Related = 0
			return ""
		}
		n, err := strconv.Atoi(s)
		if v.kind != vScalar || err != nil || n < 0 || n > maxRelated {
			return fmt.Sprintf("must be a whole number from 0 to %d (0 or false: none), not %s", maxRelated, describe(v))
		}
		cfg.Related = n
		return ""
	case "social_image":
		if v.kind == vNull || (v.kind == vScalar && s == "") {
			cfg.SocialImage = ""
			return ""
		}
		if v.kind != vScalar {
			return fmt.Sprintf("must be text, not a %s", kindName(v.kind))
		}
		u, err := url.Parse(s)
		if err != nil || u.Opaque != "" || !(u.Scheme == "" && u.Host == "" || (u.Scheme == "http" || u.Scheme == "https") && u.Host != "") {
			return fmt.Sprintf("%q is not an http(s) URL or a path of the site like /images/card.png", s)
		}
		cfg.SocialImage = s
		return ""
	}
	return fmt.Sprintf("%s is not a reader setting", key)
}
