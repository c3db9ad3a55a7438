package controller

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestWorker(t *testing.T) {
	tests := []struct {
		name       string
		maxRetries int
		fails      int // syncs of the key that fail before one succeeds
		syncs      int // until the queue is empty
	}{
		{"retried until it succeeds", 0, 5, 6},
		{"retried until dropped", 3, 100, 4},
		{"dropped after one requeue", 1, 100, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, api := testServer(0, 0)
			ctx := NewContext("ctl", api)
			q := NewQueue[string](w, "q", nil)
			syncs := 0
			q.Add("k")
			ctx.Go("worker", Worker(q, func(string) error {
				syncs++
				if syncs <= tt.fails {
					return errors.New("no")
				}
				return nil
			}, tt.maxRetries))
			w.RunUntil(10 * time.Minute)
			assert.Equal(t, tt.syncs, syncs)
			assert.Zero(t, q.NumRequeues("k"), "forgotten")
			assert.Zero(t, q.Len(), "not queued again")
		})
	}
}
