// Package ctrlsim is the ctrlsim command as a library: one run ([Run]),
// chaos sweeps with shards ([Chaos], [Merge], [WriteJUnit]), comparison
// reports ([Compare]), replay and shrinking of recorded runs ([Replay],
// [Shrink]), and the command line itself ([Main]).
//
// Another module builds a ctrlsim binary with strategies of its own:
//
//	func main() {
//		os.Exit(ctrlsim.Main(os.Args[1:], os.Stdout, os.Stderr,
//			ctrlsim.WithStrategies(mycontroller.Strategy())))
//	}
//
// Every output is a function of its inputs: the same configuration gives
// the same files, byte for byte, whatever Jobs says and on any machine.
// Directories are written to a temporary sibling and renamed into place, so
// an interrupted command leaves the old directory or the new one, never half
// of one.
//
// Exit codes of Main, for CI:
//
//	0  every check passed
//	1  a check failed (or a controller failed)
//	2  bad input: an unknown command or flag, an invalid value, scenario or manifest
//	3  a check could not conclude (unknown), unless told to accept that
package ctrlsim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"sort"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/ctrlsim/ctrlsim/harness/plugin"
	"github.com/ctrlsim/ctrlsim/models"
)

// Exit codes of Main.
const (
	ExitOK      = 0 // every check passed
	ExitFail    = 1 // a check or a controller failed, or an output could not be written
	ExitUsage   = 2 // bad input: nothing was run
	ExitUnknown = 3 // a check could not conclude
)

// Option configures Main.
type Option func(*options)

type options struct {
	extra   []plugin.Strategy
	version string
}

// WithStrategies adds strategies to those registered in package models
// (models.Register): every command can name them (--strategy,
// --strategies) and compare's default includes them. A strategy with the
// name of a registered one takes its place, so passing a strategy that an
// imported package also registers in its init is fine.
func WithStrategies(s ...plugin.Strategy) Option {
	return func(o *options) { o.extra = append(o.extra, s...) }
}

// WithVersion sets what ctrlsim version (and --version) prints; by default
// the module version from the build information, or "(devel)".
func WithVersion(v string) Option {
	return func(o *options) { o.version = v }
}

// Lookup finds a strategy by name; models.Lookup is one.
type Lookup func(name string) (plugin.Strategy, error)

// strategySet is the registered strategies and the extra ones.
type strategySet struct {
	extra map[string]plugin.Strategy
}

func newStrategySet(extra []plugin.Strategy) (*strategySet, error) {
	s := &strategySet{extra: map[string]plugin.Strategy{}}
	for _, st := range extra {
		if st.Name == "" {
			return nil, errors.New("WithStrategies: a strategy has no name")
		}
		if _, dup := s.extra[st.Name]; dup {
			return nil, fmt.Errorf("WithStrategies: strategy %q given twice", st.Name)
		}
		s.extra[st.Name] = st
	}
	return s, nil
}

// names lists every strategy, sorted.
func (s *strategySet) names() []string {
	out := models.Names()
	for n := range s.extra {
		if _, err := models.Lookup(n); err != nil {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

func (s *strategySet) lookup(name string) (plugin.Strategy, error) {
	if st, ok := s.extra[name]; ok {
		return st, nil
	}
	if st, err := models.Lookup(name); err == nil {
		return st, nil
	}
	return plugin.Strategy{}, fmt.Errorf("unknown strategy %q (known: %s)", name, strings.Join(s.names(), ", "))
}

func (s *strategySet) lookupAll(names []string) ([]plugin.Strategy, error) {
	out := make([]plugin.Strategy, len(names))
	for i, n := range names {
		var err error
		if out[i], err = s.lookup(n); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// BadInputError is an error in what a function was given (an unknown
// scenario, a strategy that cannot run a scenario, an invalid file):
// nothing was run or written. Main exits 2 on it.
type BadInputError struct{ Err error }

func (e *BadInputError) Error() string { return e.Err.Error() }
func (e *BadInputError) Unwrap() error { return e.Err }

func badInput(err error) error {
	var b *BadInputError
	if err == nil || errors.As(err, &b) {
		return err
	}
	return &BadInputError{err}
}

// exitError ends a command with an exit code, after printing msg (if any)
// to stderr.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// exit ends a command with code and no message.
func exit(code int) error {
	if code == ExitOK {
		return nil
	}
	return &exitError{code: code}
}

// usagef is bad input to a command: exit 2 with a message naming the
// command.
func usagef(cmd *cobra.Command, format string, args ...any) error {
	return &exitError{ExitUsage, cmd.CommandPath() + ": " + fmt.Sprintf(format, args...)}
}

// failf is a failure of a command (exit 1) with a message naming it.
func failf(cmd *cobra.Command, format string, args ...any) error {
	return &exitError{ExitFail, cmd.CommandPath() + ": " + fmt.Sprintf(format, args...)}
}

// errorOf turns a library error into the command's exit: bad input exits
// 2, anything else 1.
func errorOf(cmd *cobra.Command, err error) error {
	var b *BadInputError
	if errors.As(err, &b) {
		return usagef(cmd, "%v", err)
	}
	if errors.Is(err, context.Canceled) {
		return failf(cmd, "interrupted: the output directory was left as it was")
	}
	return failf(cmd, "%v", err)
}

// Main runs the ctrlsim command line with args (without the program name)
// and returns its exit code (ExitOK, ExitFail, ExitUsage, ExitUnknown).
// An interrupt (SIGINT, SIGTERM) stops a sweep, a comparison or a shrink
// between runs and leaves its output as it was (exit 1); a second one kills.
func Main(args []string, stdout, stderr io.Writer, opts ...Option) int {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	set, err := newStrategySet(o.extra)
	if err != nil {
		fmt.Fprintf(stderr, "ctrlsim: %v\n", err)
		return ExitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second interrupt kills at once
	}()

	root := newRootCmd(set, versionString(o.version), stdout, stderr, args)
	if len(args) == 0 {
		root.SetOut(stderr)
		root.Usage()
		return ExitUsage
	}
	root.SetArgs(fixHelpFlag(args))
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return ExitOK
	}
	var e *exitError
	if errors.As(err, &e) {
		if e.msg != "" {
			fmt.Fprintln(stderr, e.msg)
		}
		return e.code
	}
	// cobra's own errors: an unknown command, wrong arguments.
	if cmd == nil {
		cmd = root
	}
	// One line, then cobra's suggestions (Did you mean this?) if any.
	first, rest, _ := strings.Cut(strings.TrimSpace(err.Error()), "\n")
	fmt.Fprintf(stderr, "%s: %s (see %s --help)\n", cmd.CommandPath(), first, cmd.CommandPath())
	if rest = strings.TrimSpace(rest); rest != "" {
		fmt.Fprintf(stderr, "\n%s\n", rest)
	}
	return ExitUsage
}

// fixHelpFlag accepts -help, as Go's flag package did.
func fixHelpFlag(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "-help" {
			a = "--help"
		}
		out[i] = a
	}
	return out
}

func newRootCmd(set *strategySet, version string, stdout, stderr io.Writer, args []string) *cobra.Command {
	root := &cobra.Command{
		Use:   "ctrlsim",
		Short: "A deterministic benchmark and chaos-testing harness for Kubernetes replica controllers",
		Long: `ctrlsim: a deterministic benchmark and chaos-testing harness for Kubernetes
replica controllers. One seed replays a run exactly.

Exit codes: 0 pass, 1 a check or a controller failed, 2 bad input,
3 a check could not conclude.`,
		Version:       version,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetVersionTemplate("ctrlsim {{.Version}}\n")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &exitError{ExitUsage, flagError(cmd, err, args)}
	})
	root.AddCommand(
		newVersionCmd(version),
		newRunCmd(set),
		newScenariosCmd(),
		newStrategiesCmd(set),
		newFaultsCmd(),
		newChaosCmd(set),
		newMergeCmd(),
		newCompareCmd(set),
		newDiffCmd(set),
		newReplayCmd(set),
		newShrinkCmd(set),
	)
	// A help command that takes no unknown topic.
	root.SetHelpCommand(&cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			var names []string
			for _, c := range cmd.Root().Commands() {
				if c.IsAvailableCommand() {
					names = append(names, c.Name())
				}
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			target, _, err := cmd.Root().Find(args)
			if err != nil || target == nil || (len(args) > 0 && target == cmd.Root()) {
				return usagef(cmd.Root(), "unknown help topic %q (see ctrlsim --help)", strings.Join(args, " "))
			}
			target.InitDefaultHelpFlag()
			target.InitDefaultVersionFlag()
			return target.Help()
		},
	})
	// cobra's completion command, which takes no unknown shell.
	root.InitDefaultCompletionCmd()
	if c, _, err := root.Find([]string{"completion"}); err == nil && c != root {
		c.Args = nil
		c.RunE = func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				cmd.SetOut(cmd.ErrOrStderr())
				cmd.Usage()
				return exit(ExitUsage)
			}
			return usagef(cmd, "unknown shell %q: bash, zsh, fish or powershell", args[0])
		}
	}
	return root
}

// flagError is one line: the command, what is wrong, and where to look.
// A long flag given with one dash (Go's flag package took -seeds) says so.
func flagError(cmd *cobra.Command, err error, args []string) string {
	for _, a := range args {
		name, _, _ := strings.Cut(strings.TrimPrefix(a, "-"), "=")
		if strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && len(name) > 1 && cmd.Flags().Lookup(name) != nil {
			return fmt.Sprintf("%s: unknown flag %s: long flags take two dashes: --%s", cmd.CommandPath(), a, name)
		}
	}
	return fmt.Sprintf("%s: %v (see %s --help)", cmd.CommandPath(), err, cmd.CommandPath())
}

// noArgs refuses positional arguments.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef(cmd, "unexpected argument %q", args[0])
	}
	return nil
}

func newVersionCmd(version string) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of ctrlsim",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintf(cmd.OutOrStdout(), "ctrlsim %s\n", version)
			return nil
		},
	}
}

func versionString(v string) string {
	bi, ok := debug.ReadBuildInfo()
	if v == "" {
		v = "(devel)"
		if ok && bi.Main.Version != "" {
			v = bi.Main.Version
		}
	}
	var goVersion string
	if ok {
		goVersion = bi.GoVersion
	}
	return strings.TrimSpace(v + " " + goVersion)
}

// outputFlag adds -o/--output (text or json) and its completion.
func outputFlag(cmd *cobra.Command, what string) *string {
	p := cmd.Flags().StringP("output", "o", "text", what)
	cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
	return p
}

// checkOutput validates -o.
func checkOutput(cmd *cobra.Command, output string) error {
	if output != "text" && output != "json" {
		return usagef(cmd, "-o must be text or json, not %q", output)
	}
	return nil
}

// completeStrategies completes a strategy name, or a comma-separated list
// of them.
func completeStrategies(set *strategySet) cobra.CompletionFunc {
	return completeList(set.names)
}

func completeList(names func() []string) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		prefix := ""
		if i := strings.LastIndexByte(toComplete, ','); i >= 0 {
			prefix = toComplete[:i+1]
		}
		var out []string
		for _, n := range names() {
			out = append(out, prefix+n)
		}
		return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
	}
}

// changed says whether a flag was given.
func changed(cmd *cobra.Command, name string) bool {
	f := cmd.Flags().Lookup(name)
	return f != nil && f.Changed
}

// completeDirs completes directories (run and sweep directories) and files.
func completeDirs(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	return nil, cobra.ShellCompDirectiveDefault
}
