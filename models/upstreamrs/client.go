package upstreamrs

import (
	"context"
	"errors"
	"strings"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	appsclient "k8s.io/client-go/kubernetes/typed/apps/v1"
	coreclient "k8s.io/client-go/kubernetes/typed/core/v1"
)

// errStopped answers the requests of a sync whose controller was killed.
var errStopped = errors.New("upstreamrs: controller stopped")

// call is one message from the upstream code (a sync goroutine or one of the
// goroutines it started) to the worker coroutine serving it: an API request,
// or the end of the sync.
type call struct {
	req   *apiserver.Request
	reply chan *apiserver.Response

	done     bool // the sync returned err
	err      error
	panicked any // the sync panicked
	stack    string
}

// post sends a message to the worker coroutine and, for a request, waits for
// its response. It runs on upstream goroutines, never on a coroutine.
func (c *Controller) post(m *call) *apiserver.Response {
	select {
	case c.mailbox <- m:
	case <-c.dead:
		return &apiserver.Response{Err: errStopped}
	}
	if m.reply == nil {
		return nil
	}
	select {
	case r := <-m.reply:
		return r
	case <-c.dead:
		return &apiserver.Response{Err: errStopped}
	}
}

func (c *Controller) do(req *apiserver.Request) (apiserver.Object, error) {
	r := c.post(&call{req: req, reply: make(chan *apiserver.Response, 1)})
	if r.Err != nil {
		return nil, r.Err
	}
	return r.Object, nil // already the caller's own copy (serve copies)
}

// clientset is the kubernetes.Interface upstream's controller is given. Only
// the calls the ReplicaSet controller makes are backed by the simulated API
// server; any other call panics (a nil embedded interface), which fails the
// controller visibly.
type clientset struct {
	kubernetes.Interface
	c *Controller
}

func (cs *clientset) AppsV1() appsclient.AppsV1Interface { return &appsV1{c: cs.c} }
func (cs *clientset) CoreV1() coreclient.CoreV1Interface { return &coreV1{c: cs.c} }

type appsV1 struct {
	appsclient.AppsV1Interface
	c *Controller
}

func (a *appsV1) ReplicaSets(ns string) appsclient.ReplicaSetInterface {
	return &replicaSets{c: a.c, ns: ns}
}

type coreV1 struct {
	coreclient.CoreV1Interface
	c *Controller
}

func (a *coreV1) Pods(ns string) coreclient.PodInterface { return &pods{c: a.c, ns: ns} }

type replicaSets struct {
	appsclient.ReplicaSetInterface
	c  *Controller
	ns string
}

func asRS(o apiserver.Object, err error) (*appsv1.ReplicaSet, error) {
	if err != nil {
		return nil, err
	}
	return o.(*appsv1.ReplicaSet), nil
}

func (r *replicaSets) Get(_ context.Context, name string, _ metav1.GetOptions) (*appsv1.ReplicaSet, error) {
	return asRS(r.c.do(&apiserver.Request{Verb: apiserver.Get, Kind: apiserver.ReplicaSets, Namespace: r.ns, Name: name}))
}

func (r *replicaSets) Update(_ context.Context, rs *appsv1.ReplicaSet, _ metav1.UpdateOptions) (*appsv1.ReplicaSet, error) {
	return asRS(r.c.do(&apiserver.Request{Verb: apiserver.Update, Kind: apiserver.ReplicaSets, Namespace: r.ns, Name: rs.Name, Object: rs.DeepCopy()}))
}

func (r *replicaSets) UpdateStatus(_ context.Context, rs *appsv1.ReplicaSet, _ metav1.UpdateOptions) (*appsv1.ReplicaSet, error) {
	return asRS(r.c.do(&apiserver.Request{Verb: apiserver.Update, Kind: apiserver.ReplicaSets, Namespace: r.ns, Name: rs.Name, Subresource: "status", Object: rs.DeepCopy()}))
}

type pods struct {
	coreclient.PodInterface
	c  *Controller
	ns string
}

func asPod(o apiserver.Object, err error) (*corev1.Pod, error) {
	if err != nil {
		return nil, err
	}
	return o.(*corev1.Pod), nil
}

func (p *pods) Get(_ context.Context, name string, _ metav1.GetOptions) (*corev1.Pod, error) {
	return asPod(p.c.do(&apiserver.Request{Verb: apiserver.Get, Kind: apiserver.Pods, Namespace: p.ns, Name: name}))
}

// Create sends the pod to the pods' namespace, as the URL of a real request
// would (upstream leaves the pod's own namespace empty).
func (p *pods) Create(_ context.Context, pod *corev1.Pod, _ metav1.CreateOptions) (*corev1.Pod, error) {
	pod = pod.DeepCopy()
	if pod.Namespace == "" {
		pod.Namespace = p.ns
	}
	return asPod(p.c.do(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.Pods, Namespace: p.ns, Object: pod}))
}

func (p *pods) Delete(_ context.Context, name string, opts metav1.DeleteOptions) error {
	var o *metav1.DeleteOptions
	if !isZeroDeleteOptions(opts) {
		o = opts.DeepCopy()
	}
	_, err := p.c.do(&apiserver.Request{Verb: apiserver.Delete, Kind: apiserver.Pods, Namespace: p.ns, Name: name, Delete: o})
	return err
}

func isZeroDeleteOptions(o metav1.DeleteOptions) bool {
	return o.GracePeriodSeconds == nil && o.Preconditions == nil && o.OrphanDependents == nil &&
		o.PropagationPolicy == nil && len(o.DryRun) == 0 && o.IgnoreStoreReadErrorWithClusterBreakingPotential == nil
}

func (p *pods) Patch(_ context.Context, name string, pt types.PatchType, data []byte, _ metav1.PatchOptions, subresources ...string) (*corev1.Pod, error) {
	return asPod(p.c.do(&apiserver.Request{Verb: apiserver.Patch, Kind: apiserver.Pods, Namespace: p.ns, Name: name,
		PatchType: pt, Patch: append([]byte(nil), data...), Subresource: strings.Join(subresources, "/")}))
}
