// Command ctrlsim is ctrlsim with this example's controller added: every
// command of ctrlsim (run, chaos, compare, replay, shrink, …) with the
// strategy example-oldest-first besides the built-in ones.
//
//	go run ./cmd/ctrlsim chaos --strategies example-oldest-first,upstream --seeds 20 --out out/chaos
//	go run ./cmd/ctrlsim compare --strategies example-oldest-first,oldest-first,upstream --seeds 5 --out out/compare
package main

import (
	"os"

	"github.com/ctrlsim/ctrlsim"
	oldestfirst "github.com/ctrlsim/ctrlsim/examples/oldest-first"
)

func main() {
	os.Exit(ctrlsim.Main(os.Args[1:], os.Stdout, os.Stderr, ctrlsim.WithStrategies(oldestfirst.Strategy())))
}
