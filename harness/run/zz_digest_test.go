package run

import (
	"fmt"
	"testing"

	"github.com/ctrlsim/ctrlsim/models"
	"github.com/ctrlsim/ctrlsim/workloads"
)

func TestZZDigests(t *testing.T) {
	for _, sc := range workloads.Names() {
		for _, stn := range []string{"upstream", "random"} {
			for _, seed := range []uint64{1, 7} {
				s, _ := workloads.Lookup(sc)
				st, err := models.Lookup(stn)
				if err != nil {
					continue
				}
				res, err := Run(Config{Scenario: s, Strategy: st, Seed: seed})
				if err != nil {
					fmt.Printf("%s %s %d ERR %v\n", sc, stn, seed, err)
					continue
				}
				fmt.Printf("%s %s %d %s %d %s\n", sc, stn, seed, res.Summary.Digest, res.Summary.Events, res.Summary.Verdict)
			}
		}
	}
}
