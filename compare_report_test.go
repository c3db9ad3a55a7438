package ctrlsim

import (
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ctrlsim/ctrlsim/reports"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"
)

// compareArgs: a strategy that breaks an invariant on a scenario (failing
// runs to list), a scenario with a fault plan (shaded windows), one with
// scale-down decisions (the ordering plot); two seeds.
var compareArgs = []string{"compare", "--strategies", "upstream,sts-no-identity-guard",
	"--scenarios", "sts-ordered-identity,rs-chaos-stale-cache,rs-scale-down-deletion-cost", "--seeds", "1-2"}

// tree reads every file under dir, by slash-separated relative path.
func tree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		out[filepath.ToSlash(rel)], err = os.ReadFile(p)
		return err
	}))
	return out
}

// The whole output directory, byte for byte: the same on a second run and
// with another --jobs.
func TestCompareReportIsDeterministic(t *testing.T) {
	dir := t.TempDir()
	var trees []map[string][]byte
	for i, jobs := range []string{"2", "2", "1"} {
		out := filepath.Join(dir, "out"+jobs+"-"+string(rune('a'+i)))
		code, _, errOut := runCLI(append(compareArgs, "--jobs", jobs, "--out", out)...)
		require.Equal(t, ExitFail, code, "sts-no-identity-guard breaks an invariant: %s", errOut)
		trees = append(trees, tree(t, out))
	}
	first := trees[0]
	for _, name := range []string{"report.md", "report.html", "report.json", "cdf-rs-chaos-stale-cache.svg", "cdf-rs-chaos-stale-cache.png",
		"figures/rs-chaos-stale-cache/upstream/replicas.svg", "figures/rs-chaos-stale-cache/upstream/requests.png",
		"figures/rs-scale-down-deletion-cost/sts-no-identity-guard/ordering.png",
		"runs/sts-ordered-identity/sts-no-identity-guard/seed-2/history.jsonl"} {
		assert.NotEmpty(t, first[name], name)
	}
	for i, other := range trees[1:] {
		require.Equal(t, len(first), len(other), "run %d: the same files", i+2)
		for name, data := range first {
			assert.Equal(t, data, other[name], "run %d: %s", i+2, name)
		}
	}
	// The report was renamed into place: no temporary directory is left.
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		assert.NotContains(t, e.Name(), ".tmp-")
	}
}

// The HTML report opens (parses), loads nothing, and every file it names
// exists; the Markdown report's links too.
func TestCompareReportLinks(t *testing.T) {
	out := filepath.Join(t.TempDir(), "report")
	require.NoError(t, os.MkdirAll(out, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(out, "stale.txt"), []byte("from an older report"), 0o644))
	code, stdout, errOut := runCLI(append(compareArgs, "--seeds", "1", "--out", out)...)
	require.Equal(t, ExitFail, code, errOut)
	assert.Contains(t, stdout, "| sts-ordered-identity | sts-no-identity-guard | 0 | 1 | 0 |")
	_, err := os.Stat(filepath.Join(out, "stale.txt"))
	assert.True(t, os.IsNotExist(err), "the report replaces the directory whole")
	code, _, errOut = runCLI(append(compareArgs, "--seeds", "1", "--exit-zero", "--out", t.TempDir())...)
	assert.Equal(t, ExitOK, code, "--exit-zero: the failures are in the report: %s", errOut)

	raw, err := os.ReadFile(filepath.Join(out, "report.html"))
	require.NoError(t, err)
	doc, err := html.Parse(strings.NewReader(string(raw)))
	require.NoError(t, err)
	var hrefs []string
	ids := map[string]bool{}
	svgs := 0
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			if n.Data == "svg" {
				svgs++
			}
			for _, a := range n.Attr {
				switch a.Key {
				case "href":
					hrefs = append(hrefs, a.Val)
				case "id":
					ids[a.Val] = true
				case "src":
					t.Errorf("<%s src=%q>: the HTML report is self-contained", n.Data, a.Val)
				}
			}
			assert.NotEqual(t, "script", n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	// 3 CDFs; 2 strategies × 3 scenarios of runs, each with its replicas
	// (but the StatefulSet one) and requests, and the ordering where a
	// ReplicaSet scaled down.
	assert.GreaterOrEqual(t, svgs, 3+2*3, "figures inline")

	md, err := os.ReadFile(filepath.Join(out, "report.md"))
	require.NoError(t, err)
	hrefs = append(hrefs, mdLinks(string(md))...)
	require.NotEmpty(t, hrefs)
	runLinks := 0
	for _, h := range hrefs {
		if strings.HasPrefix(h, "#") {
			assert.True(t, ids[h[1:]], h)
			continue
		}
		u, err := url.Parse(h)
		require.NoError(t, err, h)
		require.Empty(t, u.Scheme, h)
		_, err = os.Stat(filepath.Join(out, filepath.FromSlash(u.Path)))
		assert.NoError(t, err, "%s names a file of the report", h)
		if strings.HasPrefix(u.Path, "runs/") {
			runLinks++
		}
	}
	assert.Positive(t, runLinks, "the failing run links its directory")
	assert.Contains(t, string(md), "`"+reports.ReplayCommand("sts-ordered-identity", "sts-no-identity-guard", 1)+"`")
}

// mdLinks are the targets of a Markdown text's links and images.
func mdLinks(md string) []string {
	var out []string
	for _, part := range strings.Split(md, "](")[1:] {
		if end := strings.IndexByte(part, ')'); end > 0 {
			out = append(out, part[:end])
		}
	}
	return out
}

func TestCompareFiguresFlag(t *testing.T) {
	for _, tc := range []struct {
		flag       string
		svg, png   bool
		wantCode   int
		wantStderr string
	}{
		{flag: "svg", svg: true, wantCode: ExitOK},
		{flag: "none", wantCode: ExitOK},
		{flag: "gif", wantCode: ExitUsage, wantStderr: "--figures must be svg,png, svg or none"},
	} {
		t.Run(tc.flag, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "r")
			code, _, errOut := runCLI("compare", "--strategies", "upstream", "--scenarios", "rs-scale-down-deletion-cost", "--seeds", "1",
				"--figures", tc.flag, "--out", out)
			require.Equal(t, tc.wantCode, code, errOut)
			assert.Contains(t, errOut, tc.wantStderr)
			if code != ExitOK {
				return
			}
			files := tree(t, out)
			_, svg := files["figures/rs-scale-down-deletion-cost/upstream/ordering.svg"]
			_, png := files["figures/rs-scale-down-deletion-cost/upstream/ordering.png"]
			assert.Equal(t, tc.svg, svg)
			assert.Equal(t, tc.png, png)
			assert.NotEmpty(t, files["cdf-rs-scale-down-deletion-cost.png"], "the CDFs are always drawn")
			assert.NotEmpty(t, files["report.html"])
		})
	}
}
