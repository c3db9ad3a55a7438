// Command ctrlsim runs deterministic simulations of Kubernetes replica
// controllers: single runs, chaos sweeps and comparison reports. It is the
// root package's Main (package github.com/ctrlsim/ctrlsim); run
// "ctrlsim --help" for the commands.
package main

import (
	"os"

	"github.com/ctrlsim/ctrlsim"
)

// version is set at build time by the Makefile (-ldflags "-X main.version=…").
var version = ""

func main() {
	os.Exit(ctrlsim.Main(os.Args[1:], os.Stdout, os.Stderr, ctrlsim.WithVersion(version)))
}
