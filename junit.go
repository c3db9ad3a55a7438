package ctrlsim

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"

	simrun "github.com/ctrlsim/ctrlsim/run"
)

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Name    string       `xml:"name,attr"`
	Tests   int          `xml:"tests,attr"`
	Fails   int          `xml:"failures,attr"`
	Errors  int          `xml:"errors,attr"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name  string      `xml:"name,attr"`
	Tests int         `xml:"tests,attr"`
	Fails int         `xml:"failures,attr"`
	Errs  int         `xml:"errors,attr"`
	Cases []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Error     *junitFailure `xml:"error,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes a sweep's runs (in sweep order) as JUnit XML for CI
// test reporting: one test suite per scenario and strategy, one test case
// per seed. A failure carries its check, message, fault plan, replay and
// repro; an unknown verdict is an error (the run could not conclude).
func WriteJUnit(w io.Writer, runs []ChaosRun) error {
	out := junitSuites{Name: "ctrlsim chaos"}
	var cur *junitSuite
	for _, r := range runs {
		name := r.Scenario + "/" + r.Strategy
		if cur == nil || cur.Name != name {
			out.Suites = append(out.Suites, junitSuite{Name: name})
			cur = &out.Suites[len(out.Suites)-1]
		}
		c := junitCase{Name: "seed-" + strconv.FormatUint(r.Seed, 10), ClassName: "ctrlsim." + r.Scenario + "." + r.Strategy}
		detail := fmt.Sprintf("%s\nfaults: %s\nreplay: %s\nrepro: %s", r.Message, strings.Join(r.Faults, "; "), r.Replay, r.Repro)
		switch r.Verdict {
		case simrun.Pass:
		case simrun.Unknown:
			c.Error = &junitFailure{Message: "could not conclude: " + r.Message, Type: "unknown", Text: detail}
			cur.Errs++
			out.Errors++
		default:
			c.Failure = &junitFailure{Message: r.Failure + ": " + r.Message, Type: r.Verdict, Text: detail}
			cur.Fails++
			out.Fails++
		}
		cur.Tests++
		out.Tests++
		cur.Cases = append(cur.Cases, c)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
