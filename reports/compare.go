// Package reports turns runs into comparisons a person reads and a machine
// parses: per strategy × scenario tables (Markdown and JSON), gonum/plot
// figures (SVG and PNG), and a Markdown and a self-contained HTML report that
// put them together. Everything it writes is a function of its inputs: the
// same runs give the same bytes.
package reports

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/ctrlsim/ctrlsim/harness/check"
	"github.com/ctrlsim/ctrlsim/run"
)

// Row aggregates the runs of one strategy on one scenario over its seeds.
type Row struct {
	Scenario string `json:"scenario"`
	Strategy string `json:"strategy"`
	Runs     int    `json:"runs"`
	Passed   int    `json:"passed"`
	Failed   int    `json:"failed"`
	Unknown  int    `json:"unknown"`
	// Convergence latency over the runs that converged, from an HDR
	// histogram of virtual milliseconds (see Latency): rendered, and in
	// milliseconds.
	ConvergenceP50 string   `json:"convergenceP50,omitempty"`
	ConvergenceP90 string   `json:"convergenceP90,omitempty"`
	ConvergenceP99 string   `json:"convergenceP99,omitempty"`
	ConvergenceMax string   `json:"convergenceMax,omitempty"`
	Convergence    *Latency `json:"convergenceMillis,omitempty"`
	// Churn: pods created and deleted, summed over the runs.
	PodsCreated int `json:"podsCreated"`
	PodsDeleted int `json:"podsDeleted"`
	Decisions   int `json:"decisions"`
	// MaxOvershoot is the worst run's: pods created beyond spec.replicas.
	MaxOvershoot int `json:"maxOvershoot"`
	// SparedShare is the share of pods chosen for deletion, over all runs,
	// that the upstream ranking would have kept.
	SparedShare float64 `json:"sparedByUpstreamShare"`
	// Violations counts, over the runs, the failed checks, the runs whose
	// controllers failed and the runaway runs; Violated says which, in the
	// order of a run's checks.
	Violations int          `json:"violations"`
	Violated   []CheckCount `json:"violated,omitempty"`
	// FailedSeeds lists the seeds that did not pass, to replay.
	FailedSeeds []uint64 `json:"failedSeeds,omitempty"`
}

// CheckCount is how many runs failed one check ("controller failure" and
// "runaway" count as checks here).
type CheckCount struct {
	Check string `json:"check"`
	Runs  int    `json:"runs"`
}

// FailedRun is one run that did not pass, with what it takes to look at it.
type FailedRun struct {
	Scenario string `json:"scenario"`
	Strategy string `json:"strategy"`
	Seed     uint64 `json:"seed"`
	Verdict  string `json:"verdict"`
	// Why: the first failing (or inconclusive) check and its message.
	Why string `json:"why"`
	// Replay is the command that replays the run exactly.
	Replay string `json:"replay"`
	// Dir is the run's directory, relative to the report.
	Dir string `json:"dir"`
	// Linearizability is porcupine's page of the run, relative to the
	// report, when its history was not linearizable.
	Linearizability string `json:"linearizability,omitempty"`
}

// Comparison is the result of comparing strategies over scenarios.
type Comparison struct {
	Strategies []string    `json:"strategies"`
	Scenarios  []string    `json:"scenarios"`
	Seeds      []uint64    `json:"seeds"`
	Rows       []Row       `json:"rows"`
	Failing    []FailedRun `json:"failing,omitempty"`
}

// violationNames are the labels a run's failures count under, beyond its
// checks' names.
const (
	controllerFailure = "controller failure"
	runaway           = "runaway"
)

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
			sort.SliceStable(runs, func(i, j int) bool { return runs[i].Seed < runs[j].Seed })
			row := Row{Scenario: sc, Strategy: st, Runs: len(runs)}
			var lat []int64
			chosen, spared := 0, 0
			violated := map[string]int{}
			var order []string
			violate := func(name string) {
				if violated[name] == 0 {
					order = append(order, name)
				}
				violated[name]++
				row.Violations++
			}
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
				for _, ch := range r.Checks {
					if ch.Verdict == check.Fail {
						violate(ch.Check)
					}
				}
				if len(r.Failures) > 0 {
					violate(controllerFailure)
				}
				if r.Verdict == run.Runaway {
					violate(runaway)
				}
				if r.Verdict != run.Pass {
					row.FailedSeeds = append(row.FailedSeeds, r.Seed)
					c.Failing = append(c.Failing, failedRun(r))
				}
				if r.ConvergenceMillis != nil {
					lat = append(lat, *r.ConvergenceMillis)
				}
				row.PodsCreated += r.PodsCreated
				row.PodsDeleted += r.PodsDeleted
				row.Decisions += r.Decisions
			}
			for _, name := range order {
				row.Violated = append(row.Violated, CheckCount{name, violated[name]})
			}
			if chosen > 0 {
				row.SparedShare = float64(spared) / float64(chosen)
			}
			if l, ok := LatencyOf(lat); ok {
				row.Convergence = &l
				row.ConvergenceP50, row.ConvergenceP90 = msString(l.P50), msString(l.P90)
				row.ConvergenceP99, row.ConvergenceMax = msString(l.P99), msString(l.Max)
			}
			c.Rows = append(c.Rows, row)
		}
	}
	return c
}

// failedRun describes a run that did not pass.
func failedRun(s run.Summary) FailedRun {
	f := FailedRun{Scenario: s.Scenario, Strategy: s.Strategy, Seed: s.Seed, Verdict: s.Verdict,
		Replay: ReplayCommand(s.Scenario, s.Strategy, s.Seed), Dir: RunDir(s.Scenario, s.Strategy, s.Seed)}
	switch {
	case s.Verdict == run.Runaway:
		f.Why = "runaway: the run hit its event bound"
	case len(s.Failures) > 0:
		f.Why = controllerFailure + ": " + s.Failures[0].Actor + ": " + s.Failures[0].Message
	}
	for _, ch := range s.Checks {
		if ch.Check == "linearizability" && ch.Verdict == check.Fail {
			f.Linearizability = f.Dir + "/linearizability.html"
		}
	}
	if f.Why == "" {
		for _, want := range []check.Verdict{check.Fail, check.Unknown} {
			for _, ch := range s.Checks {
				if ch.Verdict == want && f.Why == "" {
					f.Why = ch.Check
					if want != check.Fail {
						f.Why += " " + string(ch.Verdict)
					}
					if ch.Message != "" {
						f.Why += ": " + ch.Message
					}
				}
			}
		}
	}
	return f
}

// violatedText renders a row's violations: "0", or the checks and their
// counts ("invariants 2, watch 1").
func (r Row) violatedText() string {
	if r.Violations == 0 {
		return "0"
	}
	parts := make([]string, len(r.Violated))
	for i, v := range r.Violated {
		parts[i] = v.Check + " " + strconv.Itoa(v.Runs)
	}
	return strings.Join(parts, ", ")
}

func (r Row) sparedText() string {
	if r.Decisions == 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f%%", 100*r.SparedShare)
}

// tableHeader is the Markdown table's header, tableColumns its alignment.
const (
	tableHeader  = "| scenario | strategy | pass | fail | unknown | convergence p50 | p90 | p99 | max | overshoot | pods created | pods deleted | violations | scale-downs | spared by upstream |\n"
	tableColumns = "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|\n"
)

// WriteMarkdown writes the comparison as a Markdown table, then the runs
// that did not pass with their replay commands. Text from scenarios,
// strategies and messages is escaped.
func (c *Comparison) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	c.writeTable(&b)
	c.writeFailing(&b, "\nRuns that did not pass (each command replays one exactly):\n\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func (c *Comparison) writeTable(b *strings.Builder) {
	b.WriteString(tableHeader)
	b.WriteString(tableColumns)
	for _, r := range c.Rows {
		fmt.Fprintf(b, "| %s | %s | %d | %d | %d | %s | %s | %s | %s | %d | %d | %d | %s | %d | %s |\n", md(r.Scenario), md(r.Strategy),
			r.Passed, r.Failed, r.Unknown, dash(r.ConvergenceP50), dash(r.ConvergenceP90), dash(r.ConvergenceP99), dash(r.ConvergenceMax),
			r.MaxOvershoot, r.PodsCreated, r.PodsDeleted, md(r.violatedText()), r.Decisions, r.sparedText())
	}
}

// writeFailing lists the failed runs, each with its replay command as a
// verbatim code span and links to its directory and porcupine page.
func (c *Comparison) writeFailing(b *strings.Builder, heading string) {
	if len(c.Failing) == 0 {
		return
	}
	b.WriteString(heading)
	for _, f := range c.Failing {
		fmt.Fprintf(b, "- %s on %s, seed %d: **%s**", md(f.Strategy), md(f.Scenario), f.Seed, md(f.Verdict))
		if f.Why != "" {
			fmt.Fprintf(b, ", %s", md(clip(f.Why, 240)))
		}
		fmt.Fprintf(b, "  \n  %s · [run](%s/summary.json)", codeSpan(f.Replay), href(f.Dir))
		if f.Linearizability != "" {
			fmt.Fprintf(b, " · [porcupine](%s)", href(f.Linearizability))
		}
		b.WriteString("\n")
	}
}

// clip shortens s to at most n runes, marking the cut.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func dash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}
