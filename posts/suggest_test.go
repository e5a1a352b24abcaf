package posts

import "testing"

func TestSuggestField(t *testing.T) {
	tests := map[string]string{"titel": "title", "tgas": "tags", "Title": "title", "summray": "summary", "daet": "date", "xyz": "", "featurd": "featured", "a": ""}
	for key, want := range tests {
		if got := suggestField(key); got != want {
			t.Errorf("suggestField(%q) = %q, want %q", key, got, want)
		}
	}
}
