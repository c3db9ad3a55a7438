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
		syncs      int // of a key that always fails, until the queue is empty
	}{
		{"retried until dropped", 3, 4},
		{"dropped after one requeue", 1, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, api := testServer(0, 0)
			ctx := NewContext("ctl", api)
			q := NewQueue[string](w, "q", nil)
			syncs := 0
			q.Add("k")
			ctx.Go("worker", Worker(q, func(string) error { syncs++; return errors.New("no") }, tt.maxRetries))
			w.RunUntil(10 * time.Minute)
			assert.Equal(t, tt.syncs, syncs)
			assert.Zero(t, q.NumRequeues("k"), "forgotten")
			assert.Zero(t, q.Len(), "not queued again")
		})
	}
}
