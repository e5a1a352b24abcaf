package ghapi

import (
	"strings"
	"testing"

	"github.com/publishbot/publishbot/testkit"
)

// Every phrase a commit status description is made of, and the errors this
// package puts after "publish failed:", are explained in README's
// Troubleshooting section.
func TestTroubleshootingExplainsEveryStatus(t *testing.T) {
	section := testkit.ReadmeSection(t, "Troubleshooting")
	for _, phrase := range []string{
		descPublished, descPublishedAs, descUpToDate, descPublishFailed, descPreviewFailed, descLeftOut,
		descBuilding, ", " + descLive, descNotSeen, descPagesFailed,
		tally(3, 1, 0), tally(0, 0, 0), // the preview tally's shapes
		ErrUnauthorized.Error(), ErrForbidden.Error(), ErrNotFound.Error(),
	} {
		if !strings.Contains(section, phrase) {
			t.Errorf("README's Troubleshooting does not explain %q", phrase)
		}
	}
}
