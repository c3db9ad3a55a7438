// Package podrank is upstream's scale-down ranking of a ReplicaSet's (or
// ReplicationController's) pods, pkg/controller's ActivePodsWithRanks in
// k8s.io/kubernetes v1.36 with its default feature gates (PodDeletionCost on,
// LogarithmicScaleDown GA), as a reference to judge deletions by: ctrlsim
// diff uses it to see which of an owner's pods the ranking tells apart, and
// what it puts first. It is not a model, and models must not use it (they
// would be judged by their own code); models/replicaset/upstreamdiff checks
// Less against upstream's own code, pair by pair.
package podrank

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/kube"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
)

// DeletionCostAnnotation is the pod annotation rule 4 compares.
const DeletionCostAnnotation = "controller.kubernetes.io/pod-deletion-cost"

// Less is ActivePodsWithRanks.Less: whether pod a is deleted before pod b,
// given their ranks (active related pods on their nodes) and the ranking's
// now. The first rule that tells them apart decides.
func Less(a, b *corev1.Pod, ra, rb int, now time.Time) bool {
	// 1. Unassigned before assigned.
	if a.Spec.NodeName != b.Spec.NodeName && (a.Spec.NodeName == "" || b.Spec.NodeName == "") {
		return a.Spec.NodeName == ""
	}
	// 2. Pending < Unknown < Running.
	if pa, pb := phaseOrdinal(a), phaseOrdinal(b); pa != pb {
		return pa < pb
	}
	// 3. Not ready before ready.
	readyA, readyB := kube.IsPodReady(a), kube.IsPodReady(b)
	if readyA != readyB {
		return !readyA
	}
	// 4. Lower pod-deletion-cost first.
	if ca, cb := DeletionCost(a), DeletionCost(b); ca != cb {
		return ca < cb
	}
	// 5. More related pods on the node first.
	if ra != rb {
		return ra > rb
	}
	// 6. More recently ready first, in log2 buckets of age, uids within one.
	if readyA && readyB {
		if ta, tb := readyTime(a), readyTime(b); !ta.Equal(tb) {
			return newerFirst(ta, tb, a.UID, b.UID, now)
		}
	}
	// 7. More restarts first: of containers, then of sidecars.
	if xa, xb := kube.MaxContainerRestarts(a), kube.MaxContainerRestarts(b); xa != xb {
		return xa > xb
	}
	if xa, xb := SidecarRestarts(a), SidecarRestarts(b); xa != xb {
		return xa > xb
	}
	// 8. Newer first, likewise.
	if ta, tb := a.CreationTimestamp.Time, b.CreationTimestamp.Time; !ta.Equal(tb) {
		return newerFirst(ta, tb, a.UID, b.UID, now)
	}
	return false
}

// newerFirst orders two different times as rules 6 and 8 do: a zero time
// first (afterOrZero, also when now is zero), else the lower log2 bucket of
// now − t, else the lower uid.
func newerFirst(ta, tb time.Time, ua, ub types.UID, now time.Time) bool {
	if now.IsZero() || ta.IsZero() || tb.IsZero() {
		if ta.IsZero() || tb.IsZero() {
			return ta.IsZero()
		}
		return ta.After(tb)
	}
	if d := logBucket(now.Sub(ta)) - logBucket(now.Sub(tb)); d != 0 {
		return d < 0
	}
	return ua < ub
}

func logBucket(d time.Duration) int64 {
	if d <= 0 {
		return -1
	}
	return int64(math.Log2(float64(d)))
}

// readyTime is podReadyTime: the transition time of the first Ready
// condition that is True.
func readyTime(pod *corev1.Pod) time.Time {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			return c.LastTransitionTime.Time
		}
	}
	return time.Time{}
}

func phaseOrdinal(pod *corev1.Pod) int {
	switch pod.Status.Phase {
	case corev1.PodUnknown:
		return 1
	case corev1.PodRunning:
		return 2
	}
	return 0
}

// DeletionCost is the pod-deletion-cost annotation as upstream reads it
// (GetDeletionCostFromPodAnnotations): an int32 without a plus sign or
// leading zeros; anything else counts as 0.
func DeletionCost(pod *corev1.Pod) int32 {
	v, ok := pod.Annotations[DeletionCostAnnotation]
	if !ok || v == "" || !(v[0] == '-' || v == "0" || (v[0] >= '1' && v[0] <= '9')) {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return 0
	}
	return int32(n)
}

// SidecarRestarts is the most restarts of an init container that restarts
// Always (rule 7 compares them after the regular containers').
func SidecarRestarts(pod *corev1.Pod) int {
	sidecar := map[string]bool{}
	for _, c := range pod.Spec.InitContainers {
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			sidecar[c.Name] = true
		}
	}
	n := 0
	for _, st := range pod.Status.InitContainerStatuses {
		if sidecar[st.Name] {
			n = max(n, int(st.RestartCount))
		}
	}
	return n
}

// View renders every attribute Less compares of a pod with the given rank,
// but the uid: two pods with the same view are a tie to Less (it compares
// uids only between different times).
func View(pod *corev1.Pod, rank int) string {
	var b strings.Builder
	if pod.Spec.NodeName == "" {
		b.WriteString("unassigned ")
	}
	b.WriteString([]string{"Pending", "Unknown", "Running"}[phaseOrdinal(pod)])
	if kube.IsPodReady(pod) {
		fmt.Fprintf(&b, " ready@%s", timeOf(readyTime(pod)))
	} else {
		b.WriteString(" not-ready")
	}
	fmt.Fprintf(&b, " cost=%d rank=%d restarts=%d/%d created@%s", DeletionCost(pod), rank,
		kube.MaxContainerRestarts(pod), SidecarRestarts(pod), timeOf(pod.CreationTimestamp.Time))
	return b.String()
}

func timeOf(t time.Time) string {
	if t.IsZero() {
		return "0"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// groupKey is what rules 1-5 compare: they order pods strictly (a strict
// weak order), so that Less goes round in a circle only among pods equal in
// them.
func groupKey(pod *corev1.Pod, rank int) string {
	return fmt.Sprintf("%t %d %t %d %d", pod.Spec.NodeName == "", phaseOrdinal(pod), kube.IsPodReady(pod), DeletionCost(pod), rank)
}

// Ranking is an owner's active pods as the ranking sees them.
type Ranking struct {
	Pods  []*corev1.Pod
	Ranks []int
	Views []string
	Now   time.Time
	// Class numbers the pods so that pods with the same number are those
	// whose relative order sort.Sort leaves to its input order (see
	// classes), and Position is the place of a pod's class in the ranking:
	// Less puts every pod of a class with a lower position before every pod
	// of one with a higher position.
	Class    []int
	Position []int
	index    map[types.UID]int
}

// MaxGroup bounds the pods equal in rules 1-5 that Classes compares pair by
// pair; in a larger group only pods with the same view share a class.
const MaxGroup = 500

// classes sets Class and Position. The classes are the strongly connected
// components of "may come first" (i may come before j: not Less(j, i)) over
// the pods. Where Less is a strict weak order they are its ties. But it is
// not always one: between pods of one log2 bucket of Ready (or creation)
// times it compares uids, while pods of equal times fall through to the
// later rules, so that three pods can go round in a circle (a before b
// before c before a); sort.Sort's outcome then depends on its input order,
// the informer's (a map's order in a real cluster), for every pod of the
// circle and whatever is caught between. Between two classes Less orders
// every pair the same way (every pair of pods is comparable one way or the
// other, so the components form a chain), which gives their positions.
func (r *Ranking) classes() {
	groups := map[string][]int{}
	var order []string
	for i, p := range r.Pods {
		k := groupKey(p, r.Ranks[i])
		if groups[k] == nil {
			order = append(order, k)
		}
		groups[k] = append(groups[k], i)
	}
	r.Class = make([]int, len(r.Pods))
	next := 0
	for _, k := range order {
		g := groups[k]
		if len(g) > MaxGroup {
			byView := map[string]int{}
			for _, i := range g {
				c, ok := byView[r.Views[i]]
				if !ok {
					c, next = next, next+1
					byView[r.Views[i]] = c
				}
				r.Class[i] = c
			}
			continue
		}
		mayPrecede := func(a, b int) bool { return !r.Less(g[b], g[a]) }
		for _, comp := range Components(len(g), mayPrecede) {
			for _, a := range comp {
				r.Class[g[a]] = next
			}
			next++
		}
	}
	// Positions: order the classes by any one pod of each.
	member := make([]int, next)
	for i, c := range r.Class {
		member[c] = i
	}
	chain := make([]int, next)
	for c := range chain {
		chain[c] = c
	}
	sort.Slice(chain, func(x, y int) bool { return r.Less(member[chain[x]], member[chain[y]]) })
	position := make([]int, next)
	for p, c := range chain {
		position[c] = p
	}
	r.Position = make([]int, len(r.Pods))
	for i, c := range r.Class {
		r.Position[i] = position[c]
	}
}

// Less is Less between the ranking's pods i and j.
func (r *Ranking) Less(i, j int) bool {
	return Less(r.Pods[i], r.Pods[j], r.Ranks[i], r.Ranks[j], r.Now)
}

// Index is the position of the pod with this uid, if it is one of them.
func (r *Ranking) Index(uid types.UID) (int, bool) {
	i, ok := r.index[uid]
	return i, ok
}

// Ties are the positions of the other pods in pod i's class.
func (r *Ranking) Ties(i int) []int {
	var out []int
	for j := range r.Pods {
		if j != i && r.Class[j] == r.Class[i] {
			out = append(out, j)
		}
	}
	return out
}

// Owner ranks, at now, the pods the controller of owner (a ReplicaSet or
// ReplicationController) would choose from when it scales down: the active
// pods it controls and selects (the ones it claims), each with its rank,
// the active pods on its node among those that every owner with the same
// controller as owner selects (getIndirectlyRelatedPods; none when owner has
// no controller). owners are the objects of owner's kind, pods the pods.
func Owner(owner apiserver.Object, owners, pods []apiserver.Object, now time.Time) *Ranking {
	ns := owner.GetNamespace()
	onNode := map[string]int{}
	if ctl := metav1.GetControllerOfNoCopy(owner); ctl != nil {
		seen := map[types.UID]bool{}
		for _, sib := range owners {
			if c := metav1.GetControllerOfNoCopy(sib); sib.GetNamespace() != ns || c == nil || c.UID != ctl.UID {
				continue
			}
			sel, err := selector(sib)
			if err != nil {
				continue
			}
			for _, o := range pods {
				p := o.(*corev1.Pod)
				if p.Namespace != ns || seen[p.UID] || !sel.Matches(labels.Set(p.Labels)) {
					continue
				}
				seen[p.UID] = true
				if kube.IsPodActive(p) {
					onNode[p.Spec.NodeName]++
				}
			}
		}
	}
	sel, err := selector(owner)
	if err != nil {
		return New(nil, nil, now)
	}
	var mine []*corev1.Pod
	var ranks []int
	for _, o := range pods {
		p := o.(*corev1.Pod)
		if p.Namespace == ns && kube.IsPodActive(p) && metav1.IsControlledBy(p, owner) && sel.Matches(labels.Set(p.Labels)) {
			mine = append(mine, p)
			ranks = append(ranks, onNode[p.Spec.NodeName])
		}
	}
	return New(mine, ranks, now)
}

// New ranks pods with the given ranks at now.
func New(pods []*corev1.Pod, ranks []int, now time.Time) *Ranking {
	r := &Ranking{Pods: pods, Ranks: ranks, Now: now, index: map[types.UID]int{}}
	for i, p := range pods {
		r.index[p.UID] = i
		r.Views = append(r.Views, View(p, ranks[i]))
	}
	r.classes()
	return r
}

// Selects reports whether owner (a ReplicaSet, ReplicationController,
// StatefulSet or DaemonSet) selects the pod.
func Selects(owner apiserver.Object, pod *corev1.Pod) bool {
	sel, err := selector(owner)
	return err == nil && sel.Matches(labels.Set(pod.Labels))
}

// selector is an owner's label selector; a ReplicationController's map
// selector as its controller converts it (an empty one selects everything).
func selector(obj apiserver.Object) (labels.Selector, error) {
	switch o := obj.(type) {
	case *appsv1.ReplicaSet:
		return metav1.LabelSelectorAsSelector(o.Spec.Selector)
	case *corev1.ReplicationController:
		return metav1.LabelSelectorAsSelector(&metav1.LabelSelector{MatchLabels: o.Spec.Selector})
	case *appsv1.StatefulSet:
		return metav1.LabelSelectorAsSelector(o.Spec.Selector)
	case *appsv1.DaemonSet:
		return metav1.LabelSelectorAsSelector(o.Spec.Selector)
	}
	return nil, fmt.Errorf("not an owner of pods: %T", obj)
}

// Components are the strongly connected components of the graph on 0…n-1
// with an edge a → b where edge(a, b) (Tarjan's algorithm).
func Components(n int, edge func(a, b int) bool) [][]int {
	index := make([]int, n)
	low := make([]int, n)
	on := make([]bool, n)
	for i := range index {
		index[i] = -1
	}
	var stack []int
	var out [][]int
	counter := 0
	var visit func(v int)
	visit = func(v int) {
		index[v], low[v] = counter, counter
		counter++
		stack = append(stack, v)
		on[v] = true
		for w := 0; w < n; w++ {
			if w == v || !edge(v, w) {
				continue
			}
			if index[w] < 0 {
				visit(w)
				low[v] = min(low[v], low[w])
			} else if on[w] {
				low[v] = min(low[v], index[w])
			}
		}
		if low[v] == index[v] {
			var comp []int
			for {
				w := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				on[w] = false
				comp = append(comp, w)
				if w == v {
					break
				}
			}
			out = append(out, comp)
		}
	}
	for v := 0; v < n; v++ {
		if index[v] < 0 {
			visit(v)
		}
	}
	return out
}
