// Command ctrlsim is ctrlsim with upstream's own ReplicaSet controller
// (k8s.io/kubernetes v1.36.3) hosted as the strategy upstream-replicaset,
// besides the built-in ones. Build it with make build-upstream:
//
//	bin/ctrlsim-upstream compare --strategies upstream-replicaset,upstream --scenarios rs-scale-down-deletion-cost --seeds 5
//
// It lives in this nested module so that ctrlsim itself does not depend on
// k8s.io/kubernetes.
package main

import (
	"os"

	"github.com/ctrlsim/ctrlsim"
	"github.com/ctrlsim/ctrlsim/models/upstreamrs"
)

// version is set at build time (-ldflags "-X main.version=…").
var version = ""

func main() {
	os.Exit(ctrlsim.Main(os.Args[1:], os.Stdout, os.Stderr,
		ctrlsim.WithStrategies(upstreamrs.Strategy()), ctrlsim.WithVersion(version)))
}
