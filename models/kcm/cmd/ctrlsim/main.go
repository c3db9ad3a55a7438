// Command ctrlsim is ctrlsim with kube-controller-manager's own workload
// controllers as strategies (kcm, kcm-replicaset, …; see package kcm).
// Build it with `make build-kcm`.
package main

import (
	"os"

	"github.com/ctrlsim/ctrlsim"
	"github.com/ctrlsim/ctrlsim/models/kcm"
)

var version = ""

func main() {
	os.Exit(ctrlsim.Main(os.Args[1:], os.Stdout, os.Stderr,
		ctrlsim.WithStrategies(kcm.Strategies()...), ctrlsim.WithVersion(version)))
}
