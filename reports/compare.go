// Package reports turns runs into comparisons a person reads and a machine
// parses: per strategy × scenario tables (Markdown and JSON). Plots and the
// HTML report join it later.
package reports

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/run"
)

// Row aggregates the runs of one strategy on one scenario over its seeds.
type Row struct {
	Scenario string `json:"scenario"`
	Strategy string `json:"strategy"`
	Runs     int    `json:"runs"`
	Passed   int    `json:"passed"`
	Failed   int    `json:"failed"`
	Unknown  int    `json:"unknown"`
	// Convergence latency over the runs that converged (exact order
	// statistics of virtual times: machine-independent).
	ConvergenceP50 string `json:"convergenceP50,omitempty"`
	ConvergenceP90 string `json:"convergenceP90,omitempty"`
	ConvergenceMax string `json:"convergenceMax,omitempty"`
	// Churn: pods created and deleted, summed over the runs.
	PodsCreated int `json:"podsCreated"`
	PodsDeleted int `json:"podsDeleted"`
	Decisions   int `json:"decisions"`
	// MaxOvershoot is the worst run's: pods created beyond spec.replicas.
	MaxOvershoot int `json:"maxOvershoot"`
	// SparedShare is the share of pods chosen for deletion, over all runs,
	// that the upstream ranking would have kept.
	SparedShare float64 `json:"sparedByUpstreamShare"`
	// FailedSeeds lists the seeds that did not pass, to replay.
	FailedSeeds []uint64 `json:"failedSeeds,omitempty"`
}

// Comparison is the result of comparing strategies over scenarios.
type Comparison struct {
	Strategies []string `json:"strategies"`
	Scenarios  []string `json:"scenarios"`
	Seeds      []uint64 `json:"seeds"`
	Rows       []Row    `json:"rows"`
}

// Compare aggregates summaries (in any order) into rows ordered by scenario,
// then by the order strategies were given.
func Compare(strategies, scenarios []string, seeds []uint64, summaries []run.Summary) *Comparison {
	c := &Comparison{Strategies: strategies, Scenarios: scenarios, Seeds: seeds}
	type key struct{ sc, st string }
	groups := map[key][]run.Summary{}
	for _, s := range summaries {
		k := key{s.Scenario, s.Strategy}
		groups[k] = append(groups[k], s)
	}
	for _, sc := range scenarios {
		for _, st := range strategies {
			runs := groups[key{sc, st}]
			sort.Slice(runs, func(i, j int) bool { return runs[i].Seed < runs[j].Seed })
			row := Row{Scenario: sc, Strategy: st, Runs: len(runs)}
			var lat []time.Duration
			chosen, spared := 0, 0
			for _, r := range runs {
				row.MaxOvershoot = max(row.MaxOvershoot, r.MaxOvershoot)
				chosen += r.Ordering.Chosen
				spared += r.Ordering.Spared
				switch r.Verdict {
				case run.Pass:
					row.Passed++
				case run.Unknown:
					row.Unknown++
				default:
					row.Failed++
				}
				if r.Verdict != run.Pass {
					row.FailedSeeds = append(row.FailedSeeds, r.Seed)
				}
				if r.ConvergenceMillis != nil {
					lat = append(lat, time.Duration(*r.ConvergenceMillis)*time.Millisecond)
				}
				row.PodsCreated += r.PodsCreated
				row.PodsDeleted += r.PodsDeleted
				row.Decisions += r.Decisions
			}
			if chosen > 0 {
				row.SparedShare = float64(spared) / float64(chosen)
			}
			if len(lat) > 0 {
				sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
				row.ConvergenceP50 = quantile(lat, 0.50).String()
				row.ConvergenceP90 = quantile(lat, 0.90).String()
				row.ConvergenceMax = lat[len(lat)-1].String()
			}
			c.Rows = append(c.Rows, row)
		}
	}
	return c
}

// quantile is the nearest-rank quantile of sorted values.
func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// WriteMarkdown writes the comparison as a Markdown table. Cell text from
// scenarios and strategies is escaped.
func (c *Comparison) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "| scenario | strategy | pass | fail | unknown | convergence p50 | p90 | max | overshoot | pods created | pods deleted | scale-downs | spared by upstream |\n")
	fmt.Fprintf(&b, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range c.Rows {
		spared := "–"
		if r.Decisions > 0 {
			spared = fmt.Sprintf("%.0f%%", 100*r.SparedShare)
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %d | %s | %s | %s | %d | %d | %d | %d | %s |\n", md(r.Scenario), md(r.Strategy),
			r.Passed, r.Failed, r.Unknown, dash(r.ConvergenceP50), dash(r.ConvergenceP90), dash(r.ConvergenceMax),
			r.MaxOvershoot, r.PodsCreated, r.PodsDeleted, r.Decisions, spared)
	}
	var failing []string
	for _, r := range c.Rows {
		for _, seed := range r.FailedSeeds {
			failing = append(failing, fmt.Sprintf("- `ctrlsim run --scenario %s --strategy %s --seed %d`", r.Scenario, r.Strategy, seed))
		}
	}
	if len(failing) > 0 {
		b.WriteString("\nRuns that did not pass (each command replays one exactly):\n\n")
		b.WriteString(strings.Join(failing, "\n") + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func dash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// md escapes text for a Markdown table cell (and for HTML renderers of it).
func md(s string) string {
	r := strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;", "&", "&amp;", "`", "\\`", "\n", " ")
	return r.Replace(s)
}
