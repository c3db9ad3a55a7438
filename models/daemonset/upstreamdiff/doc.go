// Package upstreamdiff checks the DaemonSet model's pure decisions against
// upstream's own code (k8s.io/kubernetes v1.36.3) over randomized corpora:
// node eligibility (NodeShouldRunDaemonPod) on thousands of DaemonSet × node
// pairs — and that deliberately wrong rules are caught by the same corpus —,
// the tolerations added to daemon pods, the template hash that names
// ControllerRevisions, the revision data upstream recognizes as a DaemonSet's
// current template, and the target node of a pod. It is a nested, test-only
// module so that the main module never depends on k8s.io/kubernetes; run it
// with `cd models/daemonset/upstreamdiff && go test ./...`.
package upstreamdiff
