package reports

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"path"
	"strconv"
	"strings"
)

// PathName turns a scenario or strategy name into one path element of a
// report directory. Names made of letters, digits, '.', '-' and '_' (every
// built-in one) are kept as they are; any other name has the other
// characters replaced by '_' and a short hash of the whole name appended, so
// that two names never share a path and no name ("..", "a/b", "<script>")
// escapes or breaks the directory.
func PathName(name string) string {
	safe := true
	var b strings.Builder
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
			safe = false
		}
	}
	if safe && name != "" && strings.Trim(name, ".") != "" {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	return b.String() + "-" + hex.EncodeToString(sum[:4])
}

// RunDir is where compare writes a run, relative to the report directory:
// runs/<scenario>/<strategy>/seed-<n>, each name a PathName.
func RunDir(scenario, strategy string, seed uint64) string {
	return path.Join("runs", PathName(scenario), PathName(strategy), "seed-"+strconv.FormatUint(seed, 10))
}

// FigureDir is where the figures of a strategy's representative run on a
// scenario go, relative to the report directory.
func FigureDir(scenario, strategy string) string {
	return path.Join("figures", PathName(scenario), PathName(strategy))
}

// CDFName is the file name (without extension) of a scenario's
// convergence-latency CDF.
func CDFName(scenario string) string { return "cdf-" + PathName(scenario) }

// href turns a relative slash-separated path into a URL reference: every
// element percent-escaped (PathName already keeps them plain; this is the
// second line of defence).
func href(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

// ReplayCommand is the command line that replays one run, each argument
// quoted for a POSIX shell when it needs it.
func ReplayCommand(scenario, strategy string, seed uint64) string {
	return "ctrlsim run --scenario " + shellQuote(scenario) + " --strategy " + shellQuote(strategy) +
		" --seed " + strconv.FormatUint(seed, 10)
}

func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.,/=:@+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// codeSpan is s as a Markdown code span, verbatim: fenced by more backticks
// than s has in a row, padded when s starts or ends with one.
func codeSpan(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
}

// md escapes text for a Markdown table cell or paragraph (and for HTML
// renderers of it): table pipes, markup, emphasis and link syntax.
func md(s string) string {
	r := strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;", "&", "&amp;", "`", "\\`", "\n", " ",
		"*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, `\`, `\\`)
	return r.Replace(s)
}
