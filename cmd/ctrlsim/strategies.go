package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/ctrlsim/ctrlsim/models"
)

func init() {
	register(command{name: "strategies", summary: "list the controller strategies a run can use", run: runStrategies})
}

// newFlags returns a flag set that reports errors instead of exiting, with a
// usage line in the style of go test and kubectl.
func newFlags(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("ctrlsim "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: ctrlsim %s %s\n\nFlags:\n", name, usage)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args; it returns an exit code to stop with, or -1 to go on.
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer) int {
	for _, a := range args {
		if a == "-h" || a == "--help" || a == "-help" {
			fs.SetOutput(stdout)
			fs.Usage()
			return exitOK
		}
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return exitUsage
	}
	return -1
}

func runStrategies(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("strategies", "[-o text|json]", stderr)
	output := fs.String("o", "text", "output format: text or json")
	if code := parseFlags(fs, args, stdout); code >= 0 {
		return code
	}
	var rows []listRow
	for _, n := range models.Names() {
		s, _ := models.Lookup(n)
		rows = append(rows, listRow{s.Name, s.Summary})
	}
	return printList(stdout, stderr, "strategies", *output, rows)
}

// listRow is one line of a listing command.
type listRow struct {
	Name    string `json:"name"`
	Summary string `json:"summary"`
}

// printList prints a listing as aligned text or as JSON.
func printList(stdout, stderr io.Writer, cmd, output string, rows []listRow) int {
	switch output {
	case "json":
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rows); err != nil {
			return exitFail
		}
	case "text":
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		for _, r := range rows {
			fmt.Fprintf(tw, "%s\t%s\n", r.Name, r.Summary)
		}
		tw.Flush()
	default:
		fmt.Fprintf(stderr, "ctrlsim %s: -o must be text or json, not %q\n", cmd, output)
		return exitUsage
	}
	return exitOK
}
