package reports

import (
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// LatencySigFigs is the precision of the latency histograms: 3 significant
// decimal digits (a value is reported within 0.1% of what was recorded).
const LatencySigFigs = 3

// Latency summarises convergence latencies in milliseconds of virtual time
// (exact and machine-independent), as an HDR histogram reports them: each
// figure is the highest value equivalent, at LatencySigFigs significant
// digits, to the recorded value at that quantile.
type Latency struct {
	Count int64 `json:"count"`
	P50   int64 `json:"p50"`
	P90   int64 `json:"p90"`
	P99   int64 `json:"p99"`
	Max   int64 `json:"max"`
}

// LatencyOf records the latencies (milliseconds, negative ones as 0) in an
// HDR histogram of 1 ms resolution and reads its percentiles. The order of
// the values does not matter. ok is false when there are none.
func LatencyOf(millis []int64) (l Latency, ok bool) {
	if len(millis) == 0 {
		return Latency{}, false
	}
	highest := int64(2)
	for _, v := range millis {
		highest = max(highest, v)
	}
	h := hdrhistogram.New(1, highest, LatencySigFigs)
	for _, v := range millis {
		// Within [0, highest] by construction: RecordValue cannot fail.
		_ = h.RecordValue(max(v, 0))
	}
	return Latency{Count: h.TotalCount(), P50: h.ValueAtQuantile(50), P90: h.ValueAtQuantile(90),
		P99: h.ValueAtQuantile(99), Max: h.Max()}, true
}

// ms renders milliseconds as a duration ("355.071s" → "5m55.071s").
func msString(v int64) string { return (time.Duration(v) * time.Millisecond).String() }
