package workloads

import (
	"fmt"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/models/rollingupdate"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// rollingUpdate is kubectl rolling-update: the client-side replacement of a
// ReplicationController, by a new one (Objects[0]) or by a new image. It
// blocks the runner, as the command blocks its terminal, until the update is
// done or has failed (see models/rollingupdate); running it again resumes an
// update that failed.
func (r *Runner) rollingUpdate(s Step) error {
	kind, name, err := ParseTarget(s.Target)
	if err != nil {
		return err
	}
	if kind != apiserver.ReplicationControllers || name == "" {
		return fmt.Errorf("rolling-update takes a ReplicationController (rc/NAME), not %q", s.Target)
	}
	cfg := rollingupdate.Config{Namespace: metav1.NamespaceDefault, OldName: name, Image: s.Image, Container: s.Container,
		UpdatePeriod: s.UpdatePeriod, PollInterval: s.PollInterval, Timeout: s.UpdateTimeout}
	if len(s.Objects) > 0 {
		rc, ok := s.Objects[0].(*corev1.ReplicationController)
		if !ok {
			return fmt.Errorf("rolling-update: the new controller is a %s, not a ReplicationController", apiserver.KindOf(s.Objects[0]))
		}
		cfg.NewRC = rc.DeepCopy()
	}
	return rollingupdate.Run(r.ctx, cfg)
}
