package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ctrlsim/ctrlsim/run"
	"gonum.org/v1/plot"
)

// Figure kinds.
const (
	CDFFigure      = "cdf"
	ReplicasFigure = "replicas"
	OrderingFigure = "ordering"
	RequestsFigure = "requests"
)

// figureKinds are the figures of a run, in the order a report shows them,
// with what their column is called.
var figureKinds = []struct{ kind, label, none string }{
	{ReplicasFigure, "replicas over time", "no ReplicaSet or ReplicationController"},
	{OrderingFigure, "scale-down ordering", "no scale-down decision"},
	{RequestsFigure, "API requests", "no request"},
}

// RunFigures are the figures of one run of a strategy on a scenario (a
// comparison's representative run of the pair): its replicas over time
// (when it has ReplicaSets or ReplicationControllers), its scale-down
// ordering (when it made a decision) and its API requests over time, named
// under FigureDir.
type RunFigures struct {
	Scenario string
	Strategy string
	Seed     uint64
	Verdict  string
	Figures  []Figure
}

// Figure returns the figure of a kind, if drawn.
func (r *RunFigures) Figure(kind string) (Figure, bool) {
	if r != nil {
		for _, f := range r.Figures {
			if f.Kind == kind {
				return f, true
			}
		}
	}
	return Figure{}, false
}

// DrawRun draws a run's figures in SVG, and in PNG too if withPNG. The fault
// windows of its summary are shaded on the figures over time.
func DrawRun(res *run.Result, withPNG bool) (*RunFigures, error) {
	s := res.Summary
	out := &RunFigures{Scenario: s.Scenario, Strategy: s.Strategy, Seed: s.Seed, Verdict: s.Verdict}
	end, _ := time.ParseDuration(s.VirtualTime)
	windows := FaultWindows(s.Faults, end)
	dir := FigureDir(s.Scenario, s.Strategy)
	name := fmt.Sprintf("%s · %s · seed %d", s.Scenario, s.Strategy, s.Seed)
	add := func(file, caption string, plots ...*plot.Plot) error {
		f, err := render(file, path.Join(dir, file), name+caption, withPNG, plots...)
		if err == nil {
			out.Figures = append(out.Figures, f)
		}
		return err
	}
	if len(res.Replicas) > 0 {
		p, err := ReplicasPlot(name+": replicas", res.Replicas, end, windows...)
		if err != nil {
			return nil, err
		}
		if err := add(ReplicasFigure, ": desired, current and ready replicas over time, fault windows shaded", p); err != nil {
			return nil, err
		}
	}
	if plots, err := OrderingPlot(name+": scale-down ordering", res.Decisions.Decisions()); err != nil {
		return nil, err
	} else if plots != nil {
		if err := add(OrderingFigure, ": scale-down decisions, chosen and spared pods by deletion order", plots...); err != nil {
			return nil, err
		}
	}
	p, err := RequestsPlot(name+": API requests", res.History, end, windows...)
	if err != nil {
		return nil, err
	}
	if err := add(RequestsFigure, ": API requests per second by verb, fault windows shaded", p); err != nil {
		return nil, err
	}
	return out, nil
}

// Report is a comparison with its figures: what compare writes.
type Report struct {
	Comparison *Comparison
	// Summaries are every run's (for the latency CDFs).
	Summaries []run.Summary
	// Runs are the representative runs' figures, in any order; a pair
	// without one is shown without figures.
	Runs []*RunFigures
}

// File is a file of a report directory: a slash-separated relative path and
// its bytes.
type File struct {
	Name string
	Data []byte
}

// Files renders the report: report.md, report.html, report.json, the latency
// CDFs (cdf-<scenario>.svg and .png) and the runs' figures (figures/…), in
// name order. The runs' own directories (runs/…, which the reports link) are
// not among them.
func (r *Report) Files() ([]File, error) {
	cdfs, err := latencyFigures(r.Comparison, r.Summaries)
	if err != nil {
		return nil, err
	}
	var files []File
	add := func(f Figure) {
		files = append(files, File{f.Name + ".svg", f.SVG})
		if f.PNG != nil {
			files = append(files, File{f.Name + ".png", f.PNG})
		}
	}
	for _, f := range cdfs {
		add(f)
	}
	runs := r.runsByPair()
	for _, sc := range r.Comparison.Scenarios {
		for _, st := range r.Comparison.Strategies {
			if rf := runs[pair{sc, st}]; rf != nil {
				for _, f := range rf.Figures {
					add(f)
				}
			}
		}
	}
	var md, html, js bytes.Buffer
	r.writeMarkdown(&md)
	if err := r.writeHTML(&html, cdfs, runs); err != nil {
		return nil, err
	}
	enc := json.NewEncoder(&js)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r.Comparison); err != nil {
		return nil, err
	}
	files = append(files, File{"report.md", md.Bytes()}, File{"report.html", html.Bytes()}, File{"report.json", js.Bytes()})
	seen := map[string]bool{}
	for _, f := range files {
		if seen[f.Name] {
			return nil, fmt.Errorf("report: two files named %s", f.Name)
		}
		seen[f.Name] = true
	}
	sortFiles(files)
	return files, nil
}

// WriteDir writes Files into dir (which compare then renames into place).
func (r *Report) WriteDir(dir string) error {
	files, err := r.Files()
	if err != nil {
		return err
	}
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func sortFiles(files []File) {
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
}

type pair struct{ scenario, strategy string }

func (r *Report) runsByPair() map[pair]*RunFigures {
	m := map[pair]*RunFigures{}
	for _, rf := range r.Runs {
		if rf == nil {
			continue
		}
		k := pair{rf.Scenario, rf.Strategy}
		// Of two runs of a pair, the lower seed (deterministically).
		if old := m[k]; old == nil || rf.Seed < old.Seed {
			m[k] = rf
		}
	}
	return m
}

// SeedsText renders seeds as ranges: "1-5", "1, 3, 7-9".
func SeedsText(seeds []uint64) string {
	var parts []string
	for i := 0; i < len(seeds); {
		j := i
		for j+1 < len(seeds) && seeds[j+1] == seeds[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, strconv.FormatUint(seeds[i], 10)+"-"+strconv.FormatUint(seeds[j], 10))
		} else {
			parts = append(parts, strconv.FormatUint(seeds[i], 10))
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}

// The report's explanations, shared by the Markdown and the HTML.
const (
	latencyNote = "Convergence latency is the virtual time from the last step and the last fault heal until the desired state holds; " +
		"p50, p90, p99 and max are over the runs that converged, read from an HDR histogram of 1 ms resolution and 3 significant digits " +
		"(exact up to 2.047s; above, the upper bound of a bucket less than 0.1% wide). " +
		"Virtual time: the figures do not depend on the machine."
	columnsNote = "Overshoot: the worst run's pods beyond spec.replicas right after a create. " +
		"Pods created and deleted (churn) and scale-downs: summed over the runs. " +
		"Violations: failed checks summed over the runs, by check (a controller failure or a runaway counts too). " +
		"Spared by upstream: the share of the pods a strategy deleted on scale-down that the upstream ranking would have kept."
	figuresNote = "Each strategy's run with the first seed on each scenario: its replicas over time and its API requests per second by verb, " +
		"fault windows shaded; and its scale-down decisions, by deletion order, with each candidate's age, pods on its node and deletion cost, " +
		"chosen (red dots) against spared (grey rings)."
)

// writeMarkdown writes report.md.
func (r *Report) writeMarkdown(b *bytes.Buffer) {
	c := r.Comparison
	var s strings.Builder
	s.WriteString("# ctrlsim comparison\n\n")
	fmt.Fprintf(&s, "Strategies %s over scenarios %s; seeds %s.\n\n", mdList(c.Strategies), mdList(c.Scenarios), SeedsText(c.Seeds))
	s.WriteString("A self-contained HTML version with every figure is [report.html](report.html); the same table as JSON is [report.json](report.json).\n\n")
	s.WriteString("## Results\n\n")
	s.WriteString(latencyNote + "\n\n")
	c.writeTable(&s)
	s.WriteString("\n" + columnsNote + "\n")
	c.writeFailing(&s, "\n## Runs that did not pass\n\nEach command replays its run exactly; each run's directory has its summary, history and decisions.\n\n")
	s.WriteString("\n## Figures\n\n" + figuresNote + "\n")
	runs := r.runsByPair()
	for _, sc := range c.Scenarios {
		fmt.Fprintf(&s, "\n### %s\n\n", md(sc))
		fmt.Fprintf(&s, "![%s: convergence latency](%s.png)\n", md(sc), href(CDFName(sc)))
		if len(runs) == 0 {
			continue // runs not drawn (compare --figures none)
		}
		s.WriteString("\n| strategy | seed | verdict |")
		for _, k := range figureKinds {
			s.WriteString(" " + k.label + " |")
		}
		s.WriteString("\n|---|---:|---|---|---|---|\n")
		for _, st := range c.Strategies {
			rf := runs[pair{sc, st}]
			if rf == nil {
				fmt.Fprintf(&s, "| %s | – | – | – | – | – |\n", md(st))
				continue
			}
			fmt.Fprintf(&s, "| %s | %d | %s |", md(st), rf.Seed, md(rf.Verdict))
			for _, k := range figureKinds {
				if f, ok := rf.Figure(k.kind); ok {
					fmt.Fprintf(&s, " [svg](%s.svg)", href(f.Name))
					if f.PNG != nil {
						fmt.Fprintf(&s, " · [png](%s.png)", href(f.Name))
					}
					s.WriteString(" |")
				} else {
					s.WriteString(" – |")
				}
			}
			s.WriteString("\n")
		}
	}
	b.WriteString(s.String())
}

func mdList(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = md(n)
	}
	return strings.Join(out, ", ")
}
