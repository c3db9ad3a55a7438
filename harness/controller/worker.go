package controller

import (
	"fmt"
	"strings"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// KeyFunc is an object's work-queue key, "namespace/name" (client-go's
// MetaNamespaceKeyFunc).
func KeyFunc(obj metav1.Object) string { return obj.GetNamespace() + "/" + obj.GetName() }

// SplitKey splits a work-queue key at its first "/" (client-go's
// SplitMetaNamespaceKey); a key without one is a name alone.
func SplitKey(key string) (namespace, name string) {
	if namespace, name, ok := strings.Cut(key, "/"); ok {
		return namespace, name
	}
	return "", key
}

// IndexController is the name controllers give the ControllerIndex.
const IndexController = "controller"

// ControllerIndex is an IndexFunc keying an object by its controller
// reference ("ns/Kind/name/uid") and an orphan by its namespace alone, as
// upstream's PodControllerIndex: one lookup finds an owner's dependents, a
// second the orphans it may adopt.
func ControllerIndex(obj apiserver.Object) []string {
	return []string{ControllerIndexKey(obj.GetNamespace(), metav1.GetControllerOfNoCopy(obj))}
}

// ControllerIndexKey is the ControllerIndex key of the objects in namespace
// that ref controls (of the orphans, for a nil ref).
func ControllerIndexKey(namespace string, ref *metav1.OwnerReference) string {
	if ref == nil {
		return namespace
	}
	return namespace + "/" + ref.Kind + "/" + ref.Name + "/" + string(ref.UID)
}

// OwnedIndexKey is the ControllerIndex key of the objects owner, of kind,
// controls.
func OwnedIndexKey(owner metav1.Object, kind apiserver.Kind) string {
	return owner.GetNamespace() + "/" + string(kind) + "/" + owner.GetName() + "/" + string(owner.GetUID())
}

// Worker returns the loop of a controller's worker coroutines (upstream's
// worker and processNextWorkItem): it syncs key after key until q shuts
// down. A key whose sync succeeds is forgotten by the rate limiter; one that
// fails is added back rate-limited (handleErr). With maxRetries > 0 a key
// that has been requeued that often is dropped instead, until its next
// event, as the Deployment controller does.
func Worker[T comparable](q *Queue[T], sync func(T) error, maxRetries int) func() {
	return func() {
		for {
			key, quit := q.Get()
			if quit {
				return
			}
			err := sync(key)
			q.Done(key)
			switch {
			case err == nil:
				q.Forget(key)
			case maxRetries <= 0 || q.NumRequeues(key) < maxRetries:
				q.AddRateLimited(key)
			default:
				q.Forget(key)
			}
		}
	}
}

// RunWorkers is the usual body of a controller's Run once its informers and
// handlers are set up: a coroutine waits for every informer's cache, then
// starts n workers ("worker-0", …). It does not block.
func (c *Context) RunWorkers(n int, worker func(), informers ...*Informer) {
	c.Go("run", func() {
		for _, inf := range informers {
			inf.WaitForCacheSync()
		}
		for i := 0; i < n; i++ {
			c.Go(fmt.Sprintf("worker-%d", i), worker)
		}
	})
}
