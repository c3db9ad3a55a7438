package ctrlsim

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ctrlsim/ctrlsim/faults"
	"github.com/ctrlsim/ctrlsim/workloads"
)

// The listing commands: strategies, scenarios, faults.

// listCmd is a listing command: list prints the listing in output, a format
// checkOutput has accepted.
func listCmd(use, short string, list func(cmd *cobra.Command, output string) error) *cobra.Command {
	cmd := &cobra.Command{Use: use + " [flags]", Short: short, Args: noArgs}
	output := outputFlag(cmd, "output format: text or json")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := checkOutput(cmd, *output); err != nil {
			return err
		}
		return list(cmd, *output)
	}
	return cmd
}

func newStrategiesCmd(set *strategySet) *cobra.Command {
	return listCmd("strategies", "List the controller strategies a run can use", func(cmd *cobra.Command, output string) error {
		var rows []listRow
		for _, n := range set.names() {
			s, _ := set.lookup(n)
			rows = append(rows, listRow{s.Name, s.Summary})
		}
		return printList(cmd, output, rows)
	})
}

func newScenariosCmd() *cobra.Command {
	return listCmd("scenarios", "List the built-in scenarios", func(cmd *cobra.Command, output string) error {
		// Heavy scenarios (ctrlsim compare runs them only when named) say so:
		// "(heavy)" after the summary, "heavy": true in JSON.
		type scenarioRow struct {
			Name    string `json:"name"`
			Summary string `json:"summary"`
			Heavy   bool   `json:"heavy"`
		}
		var rows []listRow
		var jsonRows []scenarioRow
		for _, n := range workloads.Names() {
			sc, err := workloads.Lookup(n)
			if err != nil {
				return failf(cmd, "%v", err)
			}
			summary := sc.Summary
			if sc.Heavy {
				summary += " (heavy)"
			}
			rows = append(rows, listRow{sc.Name, summary})
			jsonRows = append(jsonRows, scenarioRow{sc.Name, sc.Summary, sc.Heavy})
		}
		if output == "json" {
			return printJSON(cmd, jsonRows)
		}
		return printList(cmd, output, rows)
	})
}

func newFaultsCmd() *cobra.Command {
	return listCmd("faults", "List the fault kinds a plan can use", func(cmd *cobra.Command, output string) error {
		if output == "json" {
			type row struct {
				Kind    string   `json:"kind"`
				Target  string   `json:"target"`
				Options []string `json:"options"`
				For     string   `json:"for"`
				Summary string   `json:"summary"`
			}
			var rows []row
			for _, k := range faults.Kinds {
				rows = append(rows, row{string(k.Kind), string(k.Target), append([]string{}, k.Options...), forWord(k), k.Summary})
			}
			return printJSON(cmd, rows)
		}
		var rows []listRow
		for _, k := range faults.Kinds {
			opts := ""
			if len(k.Options) > 0 {
				opts = " [" + strings.Join(k.Options, ", ") + "]"
			}
			rows = append(rows, listRow{string(k.Kind), fmt.Sprintf("<%s>%s for: %s — %s", k.Target, opts, forWord(k), k.Summary)})
		}
		return printList(cmd, output, rows)
	})
}

func forWord(k faults.KindInfo) string {
	switch {
	case k.Window:
		return "required"
	case k.Heals:
		return "optional"
	}
	return "none (an instant)"
}

// listRow is one line of a listing command.
type listRow struct {
	Name    string `json:"name"`
	Summary string `json:"summary"`
}

// printList prints a listing as aligned text or as JSON.
func printList(cmd *cobra.Command, output string, rows []listRow) error {
	if output == "json" {
		return printJSON(cmd, rows)
	}
	tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\n", r.Name, r.Summary)
	}
	if err := tw.Flush(); err != nil {
		return failf(cmd, "%v", err)
	}
	return nil
}

// printJSON prints v as indented JSON on stdout.
func printJSON(cmd *cobra.Command, v any) error {
	if err := writeJSON(cmd.OutOrStdout(), v); err != nil {
		return failf(cmd, "%v", err)
	}
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
