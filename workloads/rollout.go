package workloads

import "fmt"

// rolloutUndo is kubectl rollout undo [--to-revision]: it rolls a Deployment
// back to an earlier revision's pod template.
func (r *Runner) rolloutUndo(s Step) error {
	return fmt.Errorf("rollout undo needs the Deployment controller model, not yet in ctrlsim")
}
