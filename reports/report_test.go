package reports

import (
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ctrlsim/ctrlsim/faults"
	"github.com/ctrlsim/ctrlsim/harness/check"
	"github.com/ctrlsim/ctrlsim/harness/history"
	"github.com/ctrlsim/ctrlsim/harness/trace"
	"github.com/ctrlsim/ctrlsim/run"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden (go test ./reports -update)")

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name string, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "no golden file: run go test ./reports -update")
	assert.Equal(t, string(want), got, "differs from %s (if the change is intended: go test ./reports -update)", path)
}

// Names a manifest could give: markup, a pipe, an ampersand.
const (
	evilScenario = "<script>alert(1)</script>"
	evilStrategy = "naive & <b>bold</b> | x"
)

// fixture is a comparison of two strategies on two scenarios over seeds 1
// and 2, with runs that pass, fail (one with a porcupine page) and do not
// conclude, and the first seed of every pair drawn: faults on one, scale-down
// decisions on another.
func fixture(t *testing.T) *Report {
	t.Helper()
	strategies := []string{"upstream", evilStrategy}
	scenarios := []string{"rs-scale-down", evilScenario}
	var sums []run.Summary
	var runs []*RunFigures
	for i, sc := range scenarios {
		for j, st := range strategies {
			for _, seed := range []uint64{1, 2} {
				s := run.Summary{Scenario: sc, Strategy: st, Seed: seed, Verdict: run.Pass, Checks: checks(),
					ConvergenceMillis: ms(int64(20*(i+1) + 7*j + int(seed))), PodsCreated: 10 + j, PodsDeleted: 8, VirtualTime: "2m30s"}
				switch {
				case j == 1 && i == 0 && seed == 2:
					s.Verdict, s.Checks, s.ConvergenceMillis = run.Fail, checks("invariants", "linearizability"), nil
				case j == 1 && i == 1 && seed == 1:
					s.Verdict = run.Unknown
					s.Checks[3] = check.Result{Check: "linearizability", Verdict: check.Unknown, Message: "step budget of <1000> spent"}
				}
				if i == 0 {
					s.Decisions, s.Ordering = 1, run.OrderingScore{Decisions: 1, Chosen: 2, Spared: j}
				}
				if i == 1 {
					s.Faults = []faults.Record{{Fault: "partition <node-1>", Started: "30s", Healed: "1m30s"}, {Fault: "crash-pod", Started: "1m", Healed: "1m"}}
				}
				sums = append(sums, s)
				if seed != 1 {
					continue
				}
				res := &run.Result{Summary: s, Decisions: &trace.Recorder{},
					Replicas: map[string][]check.Sample{"ReplicaSet/default/frontend": {{T: 0, Desired: 3}, {T: 2 * time.Second, Desired: 3, Current: 3, Ready: 3},
						{T: time.Minute, Desired: 1, Current: 3, Ready: 3}, {T: time.Minute + 20*time.Millisecond, Desired: 1, Current: 1, Ready: 1}}}}
				for k := 0; k < 30; k++ {
					res.History = append(res.History, &history.Op{Verb: []string{"create", "list", "update"}[k%3], Call: history.Stamp{Time: time.Duration(k) * 5 * time.Second}})
				}
				if i == 0 {
					res.Decisions.Record(decision("2025-01-01T00:01:00Z", []string{"frontend-b", "frontend-a"},
						cand("frontend-a", "2025-01-01T00:00:00Z", 0, 0), cand("frontend-b", "2025-01-01T00:00:30Z", 0, 0), cand("frontend-c", "2025-01-01T00:00:00Z", 0, 100)))
				}
				rf, err := DrawRun(res, j == 0) // PNGs for one strategy only
				require.NoError(t, err)
				runs = append(runs, rf)
			}
		}
	}
	return &Report{Comparison: Compare(strategies, scenarios, []uint64{1, 2}, sums), Summaries: sums, Runs: runs}
}

func files(t *testing.T, r *Report) map[string]string {
	t.Helper()
	fs, err := r.Files()
	require.NoError(t, err)
	out := map[string]string{}
	for i, f := range fs {
		if i > 0 {
			assert.Less(t, fs[i-1].Name, f.Name, "in name order")
		}
		out[f.Name] = string(f.Data)
	}
	return out
}

func TestReportMarkdownGolden(t *testing.T) {
	golden(t, "report.md", files(t, fixture(t))["report.md"])
}

func TestReportFiles(t *testing.T) {
	got := files(t, fixture(t))
	var names []string
	for n := range got {
		names = append(names, n)
	}
	up, evil := "figures/rs-scale-down/upstream/", "figures/rs-scale-down/"+PathName(evilStrategy)+"/"
	evilSc := "figures/" + PathName(evilScenario) + "/"
	for _, want := range []string{
		"report.md", "report.html", "report.json",
		"cdf-rs-scale-down.svg", "cdf-rs-scale-down.png", CDFName(evilScenario) + ".svg", CDFName(evilScenario) + ".png",
		up + "replicas.svg", up + "replicas.png", up + "ordering.svg", up + "ordering.png", up + "requests.svg", up + "requests.png",
		evil + "replicas.svg", evil + "ordering.svg", evil + "requests.svg",
		evilSc + "upstream/replicas.svg", evilSc + "upstream/requests.png",
	} {
		assert.Contains(t, names, want)
	}
	assert.NotContains(t, names, evil+"replicas.png", "that strategy's runs were drawn without PNG")
	assert.NotContains(t, names, evilSc+"upstream/ordering.svg", "no decision, no ordering plot")
	for _, n := range names {
		assert.NotContains(t, n, "<", "no name from a manifest reaches a path as it is")
		assert.NotContains(t, n, "..")
	}
	// The faulty scenario's figures over time shade its two windows.
	assert.Equal(t, 3, strings.Count(got[evilSc+"upstream/replicas.svg"], shadeStyle))
	assert.Equal(t, 3, strings.Count(got[evilSc+"upstream/requests.svg"], shadeStyle))
	assert.Equal(t, 0, strings.Count(got[up+"replicas.svg"], shadeStyle))
}

// Same inputs, same bytes: in whatever order the runs come.
func TestReportIsDeterministic(t *testing.T) {
	a := fixture(t)
	first := files(t, a)
	b := fixture(t)
	for i, j := 0, len(b.Runs)-1; i < j; i, j = i+1, j-1 {
		b.Runs[i], b.Runs[j] = b.Runs[j], b.Runs[i]
	}
	for i, j := 0, len(b.Summaries)-1; i < j; i, j = i+1, j-1 {
		b.Summaries[i], b.Summaries[j] = b.Summaries[j], b.Summaries[i]
	}
	b.Comparison = Compare(b.Comparison.Strategies, b.Comparison.Scenarios, b.Comparison.Seeds, b.Summaries)
	assert.Equal(t, first, files(t, b))
	assert.Equal(t, first, files(t, a), "rendering twice")
}

// The HTML parses; everything it links is a file of the report directory (or
// of the run directories compare writes beside it) or an anchor of the page;
// it loads nothing (no src); and names from manifests are text, never markup.
func TestReportHTML(t *testing.T) {
	r := fixture(t)
	dir := t.TempDir()
	require.NoError(t, r.WriteDir(dir))
	// The run directories, as compare writes them (with porcupine's page
	// where linearizability failed).
	for _, s := range r.Summaries {
		d := filepath.Join(dir, filepath.FromSlash(RunDir(s.Scenario, s.Strategy, s.Seed)))
		require.NoError(t, os.MkdirAll(d, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(d, "summary.json"), []byte("{}"), 0o644))
	}
	for _, f := range r.Comparison.Failing {
		if f.Linearizability != "" {
			require.NoError(t, os.WriteFile(filepath.Join(dir, filepath.FromSlash(f.Linearizability)), []byte("<html></html>"), 0o644))
		}
	}
	raw, err := os.ReadFile(filepath.Join(dir, "report.html"))
	require.NoError(t, err)
	doc, err := html.Parse(strings.NewReader(string(raw)))
	require.NoError(t, err)

	var (
		ids      = map[string]bool{}
		hrefs    []string
		elements = map[string]int{}
		texts    []string
		codes    []string
	)
	var walk func(n *html.Node, inCode bool)
	walk = func(n *html.Node, inCode bool) {
		switch n.Type {
		case html.ElementNode:
			elements[n.Data]++
			for _, a := range n.Attr {
				switch a.Key {
				case "id":
					ids[a.Val] = true
				case "href", "xlink:href":
					hrefs = append(hrefs, a.Val)
				case "src":
					t.Errorf("<%s src=%q>: the report loads nothing", n.Data, a.Val)
				}
				assert.False(t, strings.HasPrefix(a.Key, "on"), "no event handler: %s=%q", a.Key, a.Val)
			}
			inCode = inCode || n.Data == "code"
		case html.TextNode:
			texts = append(texts, n.Data)
			if inCode {
				codes = append(codes, n.Data)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, inCode)
		}
	}
	walk(doc, false)

	assert.Zero(t, elements["script"], "a scenario named <script> is text")
	assert.Zero(t, elements["b"], "a strategy named <b>…</b> is text")
	assert.Zero(t, elements["img"], "figures are inline")
	// 2 CDFs; per scenario: upstream and the other strategy, 3 figures on
	// the scenario with decisions, 2 on the other.
	assert.Equal(t, 2+2*3+2*2, elements["svg"], "every figure inline")
	text := strings.Join(texts, "")
	assert.Contains(t, text, evilScenario)
	assert.Contains(t, text, evilStrategy)
	assert.Contains(t, text, "step budget of <1000> spent")
	assert.Contains(t, codes, ReplayCommand("rs-scale-down", evilStrategy, 2), "the replay command, verbatim")
	assert.Contains(t, string(raw), "&lt;script&gt;alert(1)&lt;/script&gt;")
	assert.NotContains(t, string(raw), "<script>")

	require.NotEmpty(t, hrefs)
	porcupine := 0
	for _, h := range hrefs {
		if strings.HasPrefix(h, "#") {
			assert.True(t, ids[h[1:]], "anchor %s", h)
			continue
		}
		u, err := url.Parse(h)
		require.NoError(t, err, h)
		assert.Empty(t, u.Scheme, "%s: relative", h)
		assert.False(t, strings.HasPrefix(u.Path, "/"), "%s: relative", h)
		_, err = os.Stat(filepath.Join(dir, filepath.FromSlash(u.Path)))
		assert.NoError(t, err, "%s names a file that exists", h)
		if strings.HasSuffix(u.Path, "/linearizability.html") {
			porcupine++
		}
	}
	assert.Equal(t, 1, porcupine, "the run whose history was not linearizable links its porcupine page")
	for _, want := range []string{"report.html", "report.json"} {
		assert.Contains(t, files(t, r)["report.md"], "("+want+")")
	}
}
