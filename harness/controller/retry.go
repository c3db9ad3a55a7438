package controller

import (
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// Backoff is client-go's wait.Backoff as its retry package uses it: at most
// Steps tries, the first wait Duration, each next one Factor times longer,
// every wait with up to 10% jitter.
type Backoff struct {
	Duration time.Duration
	Factor   float64
	Steps    int
}

// client-go's retry.DefaultRetry and retry.DefaultBackoff.
var (
	DefaultRetry   = Backoff{Duration: 10 * time.Millisecond, Factor: 1, Steps: 5}
	DefaultBackoff = Backoff{Duration: 10 * time.Millisecond, Factor: 5, Steps: 4}
)

// RetryOnConflict is client-go's retry.RetryOnConflict in virtual time: it
// calls fn again, after a wait, while fn returns a Conflict, at most
// b.Steps times, and returns fn's last error. The jitter is drawn from the
// controller's random stream, so only a coroutine may call it.
func (c *Context) RetryOnConflict(b Backoff, fn func() error) error {
	d := b.Duration
	var err error
	for i := 0; i < b.Steps; i++ {
		if err = fn(); err == nil || !apierrors.IsConflict(err) {
			return err
		}
		if i == b.Steps-1 {
			break
		}
		c.Sleep(d + time.Duration(c.Rand().Float64()*0.1*float64(d)))
		d = time.Duration(float64(d) * b.Factor)
	}
	return err
}

// UpdateStatusRetrying writes a status, as upstream's
// updateReplicaSetStatus and storeDaemonSetStatus do: withStatus returns a
// copy of obj (of kind) with the status to write in place; after a failed
// write the object is read again (a quorum GET) and the write tried once
// more, retries times at most. It returns the object written.
func (c *Client) UpdateStatusRetrying(kind apiserver.Kind, obj apiserver.Object, retries int, withStatus func(apiserver.Object) apiserver.Object) (apiserver.Object, error) {
	for i := 0; ; i++ {
		written, err := c.UpdateStatus(withStatus(obj))
		if err == nil {
			return written, nil
		}
		if i >= retries {
			return nil, err
		}
		if obj, err = c.Get(kind, obj.GetNamespace(), obj.GetName()); err != nil {
			return nil, err
		}
	}
}
