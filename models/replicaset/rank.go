package replicaset

import (
	"math"
	"sort"
	"strconv"
	"time"

	"math/rand/v2"

	"github.com/ctrlsim/ctrlsim/harness/kube"
	corev1 "k8s.io/api/core/v1"
)

// ScaleDown is a policy for choosing which pods to delete.
type ScaleDown string

// The scale-down policies.
const (
	// Upstream ranks as the ReplicaSet controller does since 1.22
	// (LogarithmicScaleDown): unassigned, pending, not ready, lower
	// pod-deletion-cost, more co-located related pods, more recently ready in
	// log2 buckets with a uid tie-break, more restarts, newer in log2 buckets.
	Upstream ScaleDown = "upstream"
	// LinearAge is the ranking before 1.22: the same rules, comparing ready and
	// creation times exactly instead of in logarithmic buckets.
	LinearAge ScaleDown = "linear-age"
	// Random picks uniformly at random from the controller's own stream.
	Random ScaleDown = "random"
	// OldestFirst deletes the pods created first.
	OldestFirst ScaleDown = "oldest-first"
	// NewestFirst deletes the pods created last.
	NewestFirst ScaleDown = "newest-first"
)

// DeletionCostAnnotation is the pod annotation upstream ranks by.
const DeletionCostAnnotation = "controller.kubernetes.io/pod-deletion-cost"

// rankedPods is a list of candidates with their co-location ranks, sorted so
// that the pods to delete first come first.
type rankedPods struct {
	pods        []*corev1.Pod
	rank        []int
	now         time.Time
	logarithmic bool
}

func (s rankedPods) Len() int { return len(s.pods) }

func (s rankedPods) Swap(i, j int) {
	s.pods[i], s.pods[j] = s.pods[j], s.pods[i]
	s.rank[i], s.rank[j] = s.rank[j], s.rank[i]
}

var phaseOrdinal = map[corev1.PodPhase]int{corev1.PodPending: 0, corev1.PodUnknown: 1, corev1.PodRunning: 2}

// Less reports whether pod i should be deleted before pod j; the first rule
// that tells them apart decides.
func (s rankedPods) Less(i, j int) bool {
	a, b := s.pods[i], s.pods[j]
	// 1. Unassigned before assigned.
	if a.Spec.NodeName != b.Spec.NodeName && (a.Spec.NodeName == "" || b.Spec.NodeName == "") {
		return a.Spec.NodeName == ""
	}
	// 2. Pending < Unknown < Running.
	if pa, pb := phaseOrdinal[a.Status.Phase], phaseOrdinal[b.Status.Phase]; pa != pb {
		return pa < pb
	}
	// 3. Not ready before ready.
	ra, rb := kube.IsPodReady(a), kube.IsPodReady(b)
	if ra != rb {
		return !ra
	}
	// 4. Lower deletion cost first.
	if ca, cb := deletionCost(a), deletionCost(b); ca != cb {
		return ca < cb
	}
	// 5. More co-located related pods first.
	if s.rank[i] != s.rank[j] {
		return s.rank[i] > s.rank[j]
	}
	// 6. More recently ready first.
	if ra && rb {
		ta, tb := readyTime(a), readyTime(b)
		if !ta.Equal(tb) {
			return s.newerFirst(ta, tb, a, b)
		}
	}
	// 7. More restarts first: of regular containers, then of sidecars.
	if xa, xb := kube.MaxContainerRestarts(a), kube.MaxContainerRestarts(b); xa != xb {
		return xa > xb
	}
	if xa, xb := maxSidecarRestarts(a), maxSidecarRestarts(b); xa != xb {
		return xa > xb
	}
	// 8. Newer first.
	ta, tb := a.CreationTimestamp.Time, b.CreationTimestamp.Time
	if !ta.Equal(tb) {
		return s.newerFirst(ta, tb, a, b)
	}
	return false
}

// newerFirst compares two different times: exactly (linear-age, or a zero
// time involved: the zero time first), else by log2 of their age, with the
// uid deciding within a bucket.
func (s rankedPods) newerFirst(ta, tb time.Time, a, b *corev1.Pod) bool {
	if !s.logarithmic || s.now.IsZero() || ta.IsZero() || tb.IsZero() {
		if ta.IsZero() || tb.IsZero() {
			return ta.IsZero()
		}
		return ta.After(tb)
	}
	if d := logBucket(s.now.Sub(ta)) - logBucket(s.now.Sub(tb)); d != 0 {
		return d < 0
	}
	return a.UID < b.UID
}

func logBucket(age time.Duration) int64 {
	if age <= 0 {
		return -1
	}
	return int64(math.Log2(float64(age)))
}

// readyTime is when the pod last became ready (zero when not ready).
func readyTime(pod *corev1.Pod) time.Time {
	if !kube.IsPodReady(pod) {
		return time.Time{}
	}
	return kube.PodReadySince(pod)
}

// maxSidecarRestarts is the most restarts of a sidecar (an init container
// that restarts Always).
func maxSidecarRestarts(pod *corev1.Pod) int {
	n := 0
	for _, st := range pod.Status.InitContainerStatuses {
		for _, c := range pod.Spec.InitContainers {
			if c.Name == st.Name && c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
				n = max(n, int(st.RestartCount))
			}
		}
	}
	return n
}

// deletionCost parses the pod-deletion-cost annotation as upstream does:
// a plain int32 without a plus sign or leading zeros; anything else is 0.
func deletionCost(pod *corev1.Pod) int32 {
	v, ok := pod.Annotations[DeletionCostAnnotation]
	if !ok || v == "" {
		return 0
	}
	if !(v[0] == '-' || v == "0" || (v[0] >= '1' && v[0] <= '9')) {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return 0
	}
	return int32(n)
}

// choose orders pods by the policy and returns the first n (the ones to delete).
// pods and ranks are reordered in place.
func choose(policy ScaleDown, pods []*corev1.Pod, ranks []int, n int, now time.Time, r *rand.Rand) []*corev1.Pod {
	if n >= len(pods) {
		return pods
	}
	switch policy {
	case Random:
		r.Shuffle(len(pods), func(i, j int) {
			pods[i], pods[j] = pods[j], pods[i]
			ranks[i], ranks[j] = ranks[j], ranks[i]
		})
	case OldestFirst, NewestFirst:
		byAge := byCreation{rankedPods{pods: pods, rank: ranks}, policy == NewestFirst}
		sort.Stable(byAge)
	default:
		sort.Sort(rankedPods{pods: pods, rank: ranks, now: now, logarithmic: policy != LinearAge})
	}
	return pods[:n]
}

type byCreation struct {
	rankedPods
	newest bool
}

func (s byCreation) Less(i, j int) bool {
	a, b := s.pods[i], s.pods[j]
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return a.CreationTimestamp.Before(&b.CreationTimestamp) != s.newest
	}
	return a.UID < b.UID
}

// PodsToDelete orders pods by the policy, pods to delete first, and returns
// the first n. ranks[i] is the number of active related pods on pods[i]'s node;
// both slices are reordered together. now is the time ranking uses; r is only
// drawn from by the Random policy.
func PodsToDelete(policy ScaleDown, pods []*corev1.Pod, ranks []int, n int, now time.Time, r *rand.Rand) []*corev1.Pod {
	return choose(policy, pods, ranks, n, now, r)
}
