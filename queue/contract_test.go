package queue_test

import (
	"path/filepath"
	"testing"

	"github.com/publishbot/publishbot/queue"
	"github.com/publishbot/publishbot/queue/queuetest"
)

// TestContract runs the queue contract suite against the embedded queue.
func TestContract(t *testing.T) {
	dir := t.TempDir()
	queuetest.Run(t, queuetest.Harness{
		Open: func(t testing.TB, name string, opts queue.Options) queue.Queue {
			t.Helper()
			q, err := queue.OpenBolt(filepath.Join(dir, name+".db"), opts)
			if err != nil {
				t.Fatalf("OpenBolt: %v", err)
			}
			return q
		},
		GlobalOrder: true,
	})
}
