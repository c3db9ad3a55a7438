// Command ctrlsim is ctrlsim with the rs-operator strategy added: every
// command of ctrlsim (run, chaos, compare, replay, shrink, …) can name it.
//
//	go run ./cmd/ctrlsim chaos --strategies rs-operator --scenarios rs-self-heal,rs-chaos-stale-cache --seeds 20 --out out/chaos
package main

import (
	"os"

	"github.com/ctrlsim/ctrlsim"
	rsoperator "github.com/ctrlsim/ctrlsim/examples/rs-operator"
)

func main() {
	os.Exit(ctrlsim.Main(os.Args[1:], os.Stdout, os.Stderr, ctrlsim.WithStrategies(rsoperator.Strategy())))
}
