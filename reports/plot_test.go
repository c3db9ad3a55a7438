package reports

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/ctrlsim/ctrlsim/faults"
	"github.com/ctrlsim/ctrlsim/harness/check"
	"github.com/ctrlsim/ctrlsim/harness/history"
	"github.com/ctrlsim/ctrlsim/harness/trace"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReplicasPlotIsDeterministic(t *testing.T) {
	series := map[string][]check.Sample{
		"ReplicaSet/default/b": {{T: 0, Desired: 3}, {T: time.Second, Desired: 3, Current: 3}, {T: 3 * time.Second, Desired: 3, Current: 3, Ready: 3}},
		"ReplicaSet/default/a": {{T: 0, Desired: 1}, {T: 2 * time.Second, Desired: 1, Current: 1, Ready: 1}},
	}
	render := func(format string) []byte {
		p, err := ReplicasPlot("two <owners>", series, 10*time.Second)
		require.NoError(t, err)
		out, err := Render(p, format)
		require.NoError(t, err)
		return out
	}
	svg := render("svg")
	assert.Equal(t, svg, render("svg"), "same inputs, same bytes")
	assert.Contains(t, string(svg), "ReplicaSet/default/a desired")
	assert.Contains(t, string(svg), "two &lt;owners&gt;", "names are text, not markup")
	png := render("png")
	assert.True(t, bytes.HasPrefix(png, []byte("\x89PNG")), "a PNG")
	assert.Equal(t, png, render("png"))
}

func TestLatencyCDF(t *testing.T) {
	lat := map[string][]time.Duration{"a": {3 * time.Second, time.Second}, "b": {2 * time.Second}}
	p, err := LatencyCDF("s", []string{"a", "b", "never"}, lat, map[string]int{"a": 2, "b": 2, "never": 2})
	require.NoError(t, err)
	svg, err := Render(p, "svg")
	require.NoError(t, err)
	assert.Contains(t, string(svg), "s: convergence latency")
	assert.Contains(t, string(svg), ">a<")
	assert.Contains(t, string(svg), ">b<")
	assert.NotContains(t, string(svg), ">never<", "a strategy that never converged has no curve")
}

// shadeStyle is how an SVG fills a fault window (FaultShade).
const shadeStyle = `style="fill:#FF8B00;fill-opacity:0.21961"`

func TestFaultWindows(t *testing.T) {
	got := FaultWindows([]faults.Record{
		{Fault: "watch-delay", Started: "20s", Healed: "2m20s"},
		{Fault: "crash-pod", Started: "50s", Healed: "50s"},            // an instant
		{Fault: "partition", Started: "1m"},                            // never healed: to the end
		{Fault: "kill-node", Error: "no such node"},                    // never started
		{Fault: "garbled", Started: "soon", Healed: "later"},           // unreadable
		{Fault: "healed-before", Started: "30s", Healed: "not-a-time"}, // unreadable heal
	}, 3*time.Minute)
	assert.Equal(t, []Window{
		{Fault: "watch-delay", From: 20 * time.Second, To: 140 * time.Second},
		{Fault: "crash-pod", From: 50 * time.Second, To: 50 * time.Second},
		{Fault: "partition", From: time.Minute, To: 3 * time.Minute},
	}, got)
}

func TestReplicasPlotShadesFaultWindows(t *testing.T) {
	series := map[string][]check.Sample{"ReplicaSet/default/a": {{T: 0, Desired: 3}, {T: 5 * time.Second, Desired: 3, Current: 3, Ready: 3}}}
	for _, tc := range []struct {
		name    string
		windows []Window
		shades  int
	}{
		{"no fault: no shading, no legend entry", nil, 0},
		// One fill per window, plus the legend's swatch; an instant is a
		// thin band; a window past the end is clipped, not dropped.
		{"three windows", []Window{{"a", time.Second, 2 * time.Second}, {"b", 4 * time.Second, 4 * time.Second}, {"c", 8 * time.Second, time.Minute}}, 4},
		{"a window wholly past the axes is not drawn", []Window{{"a", time.Second, 2 * time.Second}, {"late", time.Hour, 2 * time.Hour}}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ReplicasPlot("faults", series, 10*time.Second, tc.windows...)
			require.NoError(t, err)
			svg, err := Render(p, "svg")
			require.NoError(t, err)
			assert.Equal(t, tc.shades, strings.Count(string(svg), shadeStyle))
			assert.Equal(t, len(tc.windows) > 0, strings.Contains(string(svg), ">fault in force<"))
			again, err := Render(p, "svg")
			require.NoError(t, err)
			assert.Equal(t, svg, again)
		})
	}
}

func TestRequestRates(t *testing.T) {
	op := func(verb string, at time.Duration) *history.Op {
		return &history.Op{Verb: verb, Call: history.Stamp{Time: at}}
	}
	assert.Equal(t, 100*time.Millisecond, RequestBucket(10*time.Second))
	assert.Equal(t, 100*time.Millisecond, RequestBucket(15*time.Second), "150 buckets exactly")
	assert.Equal(t, 5*time.Second, RequestBucket(6*time.Minute))
	assert.Equal(t, time.Hour, RequestBucket(100*time.Hour))
	assert.Equal(t, 2*time.Hour, RequestBucket(300*time.Hour), "past the steps: end/RequestBuckets")

	ops := []*history.Op{op("list", 0), op("list", 0), op("create", 1500*time.Millisecond), op("list", 2*time.Second), op("watch", 4*time.Second)}
	rates := RequestRates(ops, 3*time.Second, time.Second)
	assert.Equal(t, map[string][]float64{
		"list":   {2, 0, 1, 0, 0},
		"create": {0, 1, 0, 0, 0},
		"watch":  {0, 0, 0, 0, 1},
	}, rates, "per second, every verb over the same buckets, to the last call")
	half := RequestRates(ops[:1], time.Second, 500*time.Millisecond)
	assert.Equal(t, []float64{2, 0, 0}, half["list"], "one request in half a second is 2/s")
}

func TestRequestsPlot(t *testing.T) {
	var ops []*history.Op
	for i := 0; i < 50; i++ {
		verb := []string{"get", "list", "update"}[i%3]
		ops = append(ops, &history.Op{Verb: verb, Call: history.Stamp{Time: time.Duration(i) * 700 * time.Millisecond}})
	}
	render := func(format string) []byte {
		p, err := RequestsPlot("requests of <run>", ops, 40*time.Second, Window{"api-latency", 10 * time.Second, 20 * time.Second})
		require.NoError(t, err)
		out, err := Render(p, format)
		require.NoError(t, err)
		return out
	}
	svg := render("svg")
	assert.Equal(t, svg, render("svg"))
	for _, verb := range []string{">get<", ">list<", ">update<", ">fault in force<", "requests of &lt;run&gt;", "requests per second (500ms buckets)"} {
		assert.Contains(t, string(svg), verb)
	}
	assert.Equal(t, 2, strings.Count(string(svg), shadeStyle), "the window and the legend swatch")
	png := render("png")
	assert.True(t, bytes.HasPrefix(png, []byte("\x89PNG")))
	assert.Equal(t, png, render("png"))
}

func decision(now string, chosen []string, cands ...trace.Candidate) trace.Decision {
	return trace.Decision{Now: now, Candidates: cands, Chosen: chosen}
}

func cand(name, created string, rank, cost int) trace.Candidate {
	return trace.Candidate{Name: name, Created: created, Rank: rank, DeletionCost: cost}
}

func TestLayoutOrdering(t *testing.T) {
	ds := []trace.Decision{
		decision("2025-01-01T00:02:00Z", []string{"b", "a"},
			cand("a", "2025-01-01T00:00:00Z", 0, 0), cand("b", "2025-01-01T00:01:00Z", 1, 0), cand("c", "2025-01-01T00:00:00Z", 2, 100)),
		decision("2025-01-01T00:03:00Z", []string{"d"},
			cand("c", "2025-01-01T00:00:00Z", 2, 100), cand("d", "2025-01-01T00:02:30Z", 0, -5)),
	}
	o := layoutOrdering(ds)
	assert.Equal(t, 4, o.next, "three pods chosen")
	assert.Equal(t, 1, o.stride)
	assert.Equal(t, 5, o.total)
	assert.Equal(t, []float64{2.5}, o.bounds, "a line between the two decisions")
	type placed struct {
		name   string
		x      float64
		chosen bool
	}
	var got []placed
	for _, p := range o.points {
		got = append(got, placed{p.c.Name, p.x, p.chosen})
	}
	assert.Equal(t, []placed{
		{"a", 2, true}, {"b", 1, true}, // in the order chosen: b first
		{"c", 1.5, false}, // spared: over the decision's stretch [0.6, 2.4]
		{"d", 3, true},
		{"c", 3.2, false}, // alone in [2.6, 3.4]: nudged off the whole number, where d is
	}, roundPlaced(got, func(p *placed) *float64 { return &p.x }))
	age, ok := orderingAttrs[0].value(o.points[0].c, o.points[0].now)
	assert.True(t, ok)
	assert.Equal(t, 120.0, age, "a is 2 minutes old at the first decision")
	_, ok = orderingAttrs[0].value(cand("x", "yesterday", 0, 0), o.points[0].now)
	assert.False(t, ok, "an unreadable creation time has no age")

	// Past OrderingPoints candidates, one in stride is kept.
	var many []trace.Candidate
	for i := 0; i < 2*OrderingPoints+10; i++ {
		many = append(many, cand(fmt.Sprint(i), "2025-01-01T00:00:00Z", 0, 0))
	}
	big := layoutOrdering([]trace.Decision{decision("2025-01-01T00:01:00Z", []string{"0", "1"}, many...)})
	assert.Equal(t, 3, big.stride)
	assert.Len(t, big.points, (len(many)+2)/3)
}

func roundPlaced[T any](xs []T, f func(*T) *float64) []T {
	for i := range xs {
		p := f(&xs[i])
		*p = math.Round(*p*1000) / 1000
	}
	return xs
}

func TestOrderingPlot(t *testing.T) {
	none, err := OrderingPlot("nothing", nil)
	require.NoError(t, err)
	assert.Nil(t, none, "no decision, no plot")
	ds := []trace.Decision{
		decision("2025-01-01T00:02:00Z", []string{"b"}, cand("a", "2025-01-01T00:00:00Z", 0, 0), cand("b", "2025-01-01T00:01:00Z", 1, 100)),
		decision("2025-01-01T00:03:00Z", []string{"a"}, cand("a", "2025-01-01T00:00:00Z", 0, 0)),
	}
	render := func(format string) []byte {
		plots, err := OrderingPlot("<ordering>", ds)
		require.NoError(t, err)
		require.Len(t, plots, 3, "age, pods on the node, deletion cost")
		out, err := RenderStack(plots, format)
		require.NoError(t, err)
		return out
	}
	svg := string(render("svg"))
	assert.Equal(t, svg, string(render("svg")))
	for _, s := range []string{"&lt;ordering&gt;", ">chosen<", ">spared<", ">pod age (s)<", ">related pods on its node<", ">deletion cost<", "deletion order"} {
		assert.Contains(t, svg, s)
	}
	png := render("png")
	assert.True(t, bytes.HasPrefix(png, []byte("\x89PNG")))
	assert.Equal(t, png, render("png"))
}

// A run without requests, or an owner without samples, still draws.
func TestPlotsWithoutData(t *testing.T) {
	p, err := RequestsPlot("no requests", nil, 0)
	require.NoError(t, err)
	for _, format := range []string{"svg", "png"} {
		out, err := Render(p, format)
		require.NoError(t, err)
		assert.NotEmpty(t, out)
	}
	p, err = ReplicasPlot("no samples", map[string][]check.Sample{"ReplicaSet/default/a": nil}, time.Second, Window{"f", 0, time.Hour})
	require.NoError(t, err)
	svg, err := Render(p, "svg")
	require.NoError(t, err)
	assert.Contains(t, string(svg), "no samples")
	_, err = RenderStack(nil, "svg")
	assert.Error(t, err)
	_, err = Render(p, "gif")
	assert.ErrorContains(t, err, "unsupported format")
}
