package workloads

import "fmt"

// rollingUpdate is kubectl rolling-update: the client-side replacement of a
// ReplicationController.
func (r *Runner) rollingUpdate(s Step) error {
	return fmt.Errorf("rolling-update needs the client-side rolling-update actor of kubectl, not yet in ctrlsim")
}
