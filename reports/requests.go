package reports

import (
	"sort"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/history"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
)

// RequestBuckets is the most buckets RequestsPlot divides a run into.
const RequestBuckets = 150

// bucketSteps are the bucket widths RequestsPlot chooses from: the smallest
// that divides the run into at most RequestBuckets.
var bucketSteps = []time.Duration{
	100 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour,
}

// RequestBucket is the bucket width RequestsPlot uses for a run of length end.
func RequestBucket(end time.Duration) time.Duration {
	for _, b := range bucketSteps {
		if end <= b*RequestBuckets {
			return b
		}
	}
	return (end + RequestBuckets - 1) / RequestBuckets
}

// RequestRates counts the requests of each verb in buckets of width bucket
// (by the virtual time of the call), as requests per second; every verb gets
// the same number of buckets, enough to reach end.
func RequestRates(ops []*history.Op, end, bucket time.Duration) map[string][]float64 {
	n := int(end/bucket) + 1
	for _, op := range ops {
		n = max(n, int(op.Call.Time/bucket)+1)
	}
	rates := map[string][]float64{}
	for _, op := range ops {
		r := rates[op.Verb]
		if r == nil {
			r = make([]float64, n)
			rates[op.Verb] = r
		}
		r[int(max(op.Call.Time, 0)/bucket)] += 1 / bucket.Seconds()
	}
	return rates
}

// RequestsPlot draws the API requests of a run over virtual time, one line
// per verb, in requests per (virtual) second averaged over buckets of
// RequestBucket(end); fault windows are shaded.
func RequestsPlot(title string, ops []*history.Op, end time.Duration, faults ...Window) (*plot.Plot, error) {
	bucket := RequestBucket(end)
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "virtual time (s)"
	p.Y.Label.Text = "requests per second (" + bucket.String() + " buckets)"
	p.Y.Min = 0
	p.Legend.Top = true
	addFaults(p, faults)
	rates := RequestRates(ops, end, bucket)
	verbs := make([]string, 0, len(rates))
	for v := range rates {
		verbs = append(verbs, v)
	}
	sort.Strings(verbs)
	for i, verb := range verbs {
		r := rates[verb]
		xys := make(plotter.XYs, 0, len(r)+1)
		for j, v := range r {
			xys = append(xys, plotter.XY{X: (time.Duration(j) * bucket).Seconds(), Y: v})
		}
		xys = append(xys, plotter.XY{X: (time.Duration(len(r)) * bucket).Seconds(), Y: r[len(r)-1]})
		if err := addStepLine(p, verb, i, xys, 1.2); err != nil {
			return nil, err
		}
	}
	return p, nil
}
