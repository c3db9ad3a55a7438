package cluster

import (
	"slices"
	"strconv"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/controller"
	"github.com/ctrlsim/ctrlsim/harness/kube"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The clients the cluster's own actors use in the history.
const (
	ClientScheduler     = "scheduler"
	ClientNodeLifecycle = "node-lifecycle-controller"
	ClientTaintEviction = "taint-eviction-controller"
	ClientPodGC         = "pod-garbage-collector"
	ClientCluster       = "cluster"
)

// KubeletClient is the client name of the kubelet of a node: "kubelet/<node>".
func KubeletClient(node string) string { return "kubelet/" + node }

// TaintOutOfService is the taint an operator puts on a node that is known to be
// shut down, so that pod GC force-deletes its terminating pods.
const TaintOutOfService = "node.kubernetes.io/out-of-service"

// retryDelay is how long an actor waits before retrying a request that failed
// for a reason other than a conflict (a 500 or timeout from fault injection).
const retryDelay = time.Second

func podKey(obj apiserver.Object) string {
	if obj.GetNamespace() == "" {
		return obj.GetName()
	}
	return obj.GetNamespace() + "/" + obj.GetName()
}

// splitKey splits "ns/name" (or "name", in the default namespace).
func splitKey(key string) (ns, name string) {
	for i := 0; i < len(key); i++ {
		if key[i] == '/' {
			return key[:i], key[i+1:]
		}
	}
	return metav1.NamespaceDefault, key
}

func rvOf(obj apiserver.Object) uint64 {
	n, _ := strconv.ParseUint(obj.GetResourceVersion(), 10, 64)
	return n
}

// newer reports whether a is a later version of the same object than b.
func newer(a, b apiserver.Object) bool { return b == nil || rvOf(a) > rvOf(b) }

func isTerminal(pod *corev1.Pod) bool { return kube.IsPodTerminal(pod) }

func podCondition(st *corev1.PodStatus, t corev1.PodConditionType) *corev1.PodCondition {
	return kube.GetPodCondition(st, t)
}

func podReady(pod *corev1.Pod) bool { return kube.IsPodReady(pod) }

// setPodCondition sets a condition, keeping its lastTransitionTime when the
// status does not change (as the kubelet's status manager does). It reports
// whether anything changed.
func setPodCondition(st *corev1.PodStatus, c corev1.PodCondition, now metav1.Time) bool {
	if old := podCondition(st, c.Type); old != nil {
		if old.Status == c.Status {
			c.LastTransitionTime = old.LastTransitionTime
		} else {
			c.LastTransitionTime = now
		}
		c.LastProbeTime = old.LastProbeTime
		changed := *old != c
		*old = c
		return changed
	}
	c.LastTransitionTime = now
	st.Conditions = append(st.Conditions, c)
	return true
}

func nodeCondition(n *corev1.Node, t corev1.NodeConditionType) *corev1.NodeCondition {
	for i := range n.Status.Conditions {
		if n.Status.Conditions[i].Type == t {
			return &n.Status.Conditions[i]
		}
	}
	return nil
}

// nodeReadyStatus is the status of the node's Ready condition ("" if absent).
func nodeReadyStatus(n *corev1.Node) corev1.ConditionStatus {
	if c := nodeCondition(n, corev1.NodeReady); c != nil {
		return c.Status
	}
	return ""
}

// firstToleration returns the first toleration that tolerates the taint, or
// nil (taint eviction reads its tolerationSeconds).
func firstToleration(tols []corev1.Toleration, taint *corev1.Taint) *corev1.Toleration {
	return kube.MatchingToleration(tols, taint)
}

// untoleratedTaint returns the first taint with one of the effects that the
// tolerations do not tolerate, or nil.
func untoleratedTaint(taints []corev1.Taint, tols []corev1.Toleration, effects ...corev1.TaintEffect) *corev1.Taint {
	if t, ok := kube.FindMatchingUntoleratedTaint(taints, tols, effects...); ok {
		return &t
	}
	return nil
}

func noExecuteTaints(taints []corev1.Taint) []corev1.Taint {
	var out []corev1.Taint
	for _, t := range taints {
		if t.Effect == corev1.TaintEffectNoExecute {
			out = append(out, t)
		}
	}
	return out
}

func hasTaintKey(taints []corev1.Taint, key string) bool {
	for _, t := range taints {
		if t.Key == key {
			return true
		}
	}
	return false
}

// nodeMatches reports whether the pod's nodeSelector and required node
// affinity admit the node, as the scheduler's NodeAffinity plugin decides.
func nodeMatches(pod *corev1.Pod, node *corev1.Node) bool {
	return kube.RequiredNodeAffinityMatches(pod, node)
}

// podRequests sums the cpu (millicores) and memory (bytes) requests of the
// pod's containers.
func podRequests(pod *corev1.Pod) (cpu, mem int64) {
	for _, c := range pod.Spec.Containers {
		if q, ok := c.Resources.Requests[corev1.ResourceCPU]; ok {
			cpu += q.MilliValue()
		}
		if q, ok := c.Resources.Requests[corev1.ResourceMemory]; ok {
			mem += q.Value()
		}
	}
	return cpu, mem
}

func quantityOr(list corev1.ResourceList, name corev1.ResourceName, def int64, milli bool) int64 {
	q, ok := list[name]
	if !ok {
		return def
	}
	if milli {
		return q.MilliValue()
	}
	return q.Value()
}

// podIndex keeps the keys of the pods bound to each node, sorted. The pods
// themselves are in the informer's cache, which the index follows (set is
// called from the informer's handler with the cached object): the index
// changes only when a pod is bound, moves or goes, not with every status write.
type podIndex struct {
	pods   *controller.Informer
	byNode map[string][]string
}

func newPodIndex(pods *controller.Informer) *podIndex {
	return &podIndex{pods: pods, byNode: map[string][]string{}}
}

// set moves the pod with this key from old's node to pod's (nil: none).
func (ix *podIndex) set(key string, pod, old *corev1.Pod) {
	var from, to string
	if old != nil {
		from = old.Spec.NodeName
	}
	if pod != nil {
		to = pod.Spec.NodeName
	}
	if from == to {
		return
	}
	if from != "" {
		keys := ix.byNode[from]
		if i, found := slices.BinarySearch(keys, key); found {
			keys = slices.Delete(keys, i, i+1)
		}
		if len(keys) == 0 {
			delete(ix.byNode, from)
		} else {
			ix.byNode[from] = keys
		}
	}
	if to != "" {
		keys := ix.byNode[to]
		if i, found := slices.BinarySearch(keys, key); !found {
			ix.byNode[to] = slices.Insert(keys, i, key)
		}
	}
}

// count is the number of pods bound to node.
func (ix *podIndex) count(node string) int { return len(ix.byNode[node]) }

// on returns the pods bound to node in key order.
func (ix *podIndex) on(node string) []*corev1.Pod {
	keys := ix.byNode[node]
	out := make([]*corev1.Pod, len(keys))
	for i, k := range keys {
		out[i] = ix.pods.GetByKey(k).(*corev1.Pod)
	}
	return out
}

func isNotFound(err error) bool { return apierrors.IsNotFound(err) }
func isConflict(err error) bool { return apierrors.IsConflict(err) }

func ptrTo[T any](v T) *T { return &v }

// asPod is obj as a pod, nil for no object (a handler's old object on Added).
func asPod(obj apiserver.Object) *corev1.Pod {
	pod, _ := obj.(*corev1.Pod)
	return pod
}
