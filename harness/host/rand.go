package host

import (
	mathrand "math/rand"
	"os"
	"sync"
)

var (
	randseedOnce sync.Once
	randseedOK   bool
)

// SeedGlobalRand seeds math/rand's global source, which hosted code draws
// from (client-go's jittered backoffs). Since Go 1.24 rand.Seed is a no-op
// unless GODEBUG has randseednop=0: the first call sets it for the process.
// Runs in one process share the source, so hosted runs go one at a time
// (run.Run serializes them).
func SeedGlobalRand(seed uint64) {
	randseedOnce.Do(func() {
		v := os.Getenv("GODEBUG")
		if v != "" {
			v += ","
		}
		randseedOK = os.Setenv("GODEBUG", v+"randseednop=0") == nil
	})
	if randseedOK {
		mathrand.Seed(int64(seed)) //nolint:staticcheck // the global source is what hosted code draws from
	}
}
