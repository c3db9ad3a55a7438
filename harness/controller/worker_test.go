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
		{"dropped at once", 1, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newOwnersFixture(t)
			syncs := 0
			f.queue.Add("k")
			f.ctx.Go("worker", Worker(f.queue, func(string) error { syncs++; return errors.New("no") }, tt.maxRetries))
			f.ctx.World().RunUntil(f.ctx.World().Elapsed() + 10*time.Minute)
			assert.Equal(t, tt.syncs, syncs)
			assert.Zero(t, f.queue.NumRequeues("k"), "forgotten")
		})
	}
}
