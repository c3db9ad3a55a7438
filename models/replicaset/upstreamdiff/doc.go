// Package upstreamdiff checks, over thousands of randomized pod sets, that
// replicaset.PodsToDelete with the Upstream policy deletes pods in the order
// upstream's controller.ActivePodsWithRanks (k8s.io/kubernetes v1.36.3) ranks
// them, and that deliberately wrong policies are caught by the same checker.
// It is a nested, test-only module so that the main module never depends on
// k8s.io/kubernetes; run it with `cd models/replicaset/upstreamdiff && go test ./...`.
package upstreamdiff
