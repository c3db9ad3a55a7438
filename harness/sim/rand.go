package sim

import (
	"hash/fnv"
	"math/rand/v2"
)

// Streams hands out named pseudo-random streams derived from one root seed.
// Each stream depends only on the root seed and its own name, so adding an actor
// (a new name) never shifts the numbers any other actor draws.
type Streams struct {
	seed    uint64
	streams map[string]*rand.Rand
}

// NewStreams returns the streams of the given root seed.
func NewStreams(seed uint64) *Streams {
	return &Streams{seed: seed, streams: map[string]*rand.Rand{}}
}

// Get returns the stream with this name, creating it on first use. Repeated calls
// return the same stream, continuing where it left off.
func (s *Streams) Get(name string) *rand.Rand {
	if r, ok := s.streams[name]; ok {
		return r
	}
	r := rand.New(rand.NewPCG(s.seed, nameHash(name)))
	s.streams[name] = r
	return r
}

func nameHash(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}
