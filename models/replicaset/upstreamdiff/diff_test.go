package upstreamdiff

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/component-base/featuregate"
	podutil "k8s.io/kubernetes/pkg/api/v1/pod"
	"k8s.io/kubernetes/pkg/apis/core/helper"
	"k8s.io/kubernetes/pkg/controller"
	"k8s.io/kubernetes/pkg/features"

	"github.com/ctrlsim/ctrlsim/models/replicaset"
)

// Corpus size and seed: the corpus is fully determined by them. Try other
// corpora with e.g. go test -args -seed=7 -sets=20000.
var (
	numSets = flag.Int("sets", 2000, "number of randomized pod sets")
	seed    = flag.Uint64("seed", 0x5eed, "corpus seed")
)

const (
	maxPods          = 40
	maxReportedPairs = 5
)

// base is the reference "now" when now is not zero.
var base = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// times are the few values ready and creation times are drawn from: the zero
// time, times after now, equal ages, and distinct ages that share a log2
// bucket (1h, 1h+1s and 70m are all in bucket 41; 3h is in 43; 90s in 36).
var times = []time.Time{
	{},
	base.Add(-time.Hour),
	base.Add(-time.Hour - time.Second),
	base.Add(-70 * time.Minute),
	base.Add(-3 * time.Hour),
	base.Add(-90 * time.Second),
	base.Add(-time.Nanosecond),
	base, // age 0: bucket -1, like the future
	base.Add(5 * time.Minute),
	base.Add(time.Hour),
}

var (
	nodes  = []string{"", "", "node-a", "node-b", "node-c"}
	phases = []corev1.PodPhase{corev1.PodPending, corev1.PodRunning, corev1.PodRunning, corev1.PodUnknown, corev1.PodSucceeded}
	// Deletion-cost annotation values; "-" means absent. Several are invalid
	// (plus sign, leading zeros, out of int32, not a number) and count as 0.
	costs = []string{"-", "-", "-", "", "0", "-0", "1", "-1", "5", "+1", "007", "00", "abc", "2147483648", "-2147483648", "2147483647", " 1", "1e3"}
)

// podSet is one randomized input: pods with their co-location ranks, and now.
type podSet struct {
	pods  []*corev1.Pod
	ranks []int
	now   time.Time
}

// genOpts selects optional dimensions of the generator.
type genOpts struct {
	// sidecars adds restartable init containers (restartPolicy Always) with
	// restart counts, which upstream compares when regular restarts tie.
	sidecars bool
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func genSet(r *rand.Rand, o genOpts) podSet {
	n := 1 + r.IntN(maxPods)
	s := podSet{now: base}
	if r.IntN(5) == 0 {
		s.now = time.Time{}
	}
	seen := map[string]bool{}
	for len(s.pods) < n {
		uid := randUID(r)
		if seen[uid] {
			continue
		}
		seen[uid] = true
		s.pods = append(s.pods, genPod(r, uid, o))
		s.ranks = append(s.ranks, r.IntN(4))
	}
	return s
}

// randUID is 1-3 characters, so that UIDs are often prefixes of each other.
func randUID(r *rand.Rand) string {
	const alphabet = "ab0z-"
	b := make([]byte, 1+r.IntN(3))
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

func genPod(r *rand.Rand, uid string, o genOpts) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:              "pod-" + uid,
			UID:               types.UID(uid),
			CreationTimestamp: metav1.NewTime(pick(r, times)),
		},
		Spec:   corev1.PodSpec{NodeName: pick(r, nodes)},
		Status: corev1.PodStatus{Phase: pick(r, phases)},
	}
	if c := pick(r, costs); c != "-" {
		p.Annotations = map[string]string{replicaset.DeletionCostAnnotation: c}
	}
	// Conditions: sometimes an unrelated one first; Ready absent, True, False
	// or Unknown; rarely a second Ready condition (the first one counts).
	if r.IntN(4) == 0 {
		p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{
			Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(pick(r, times)),
		})
	}
	readyConds := 0
	switch x := r.IntN(10); {
	case x < 2:
	case x < 9:
		readyConds = 1
	default:
		readyConds = 2
	}
	for range readyConds {
		st := corev1.ConditionTrue
		switch r.IntN(6) {
		case 0, 1:
			st = corev1.ConditionFalse
		case 2:
			st = corev1.ConditionUnknown
		}
		p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{
			Type: corev1.PodReady, Status: st, LastTransitionTime: metav1.NewTime(pick(r, times)),
		})
	}
	for i := range r.IntN(3) {
		p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{
			Name: fmt.Sprintf("c%d", i), RestartCount: int32(r.IntN(3)),
		})
	}
	if o.sidecars {
		always := corev1.ContainerRestartPolicyAlways
		for i := range r.IntN(3) {
			name := fmt.Sprintf("init%d", i)
			c := corev1.Container{Name: name}
			if r.IntN(3) != 0 {
				c.RestartPolicy = &always // a sidecar
			}
			p.Spec.InitContainers = append(p.Spec.InitContainers, c)
			p.Status.InitContainerStatuses = append(p.Status.InitContainerStatuses, corev1.ContainerStatus{
				Name: name, RestartCount: int32(r.IntN(3)),
			})
		}
	}
	return p
}

func corpus(o genOpts) []podSet {
	r := rand.New(rand.NewPCG(*seed, 0xc0ffee))
	sets := make([]podSet, *numSets)
	for i := range sets {
		sets[i] = genSet(r, o)
	}
	return sets
}

// requireUpstreamGates makes sure upstream's Less runs with the two feature
// gates it consults on. In v1.36 LogarithmicScaleDown is GA and locked on;
// PodDeletionCost is beta and on by default.
func requireUpstreamGates(t testing.TB) {
	t.Helper()
	for _, f := range []featuregate.Feature{features.PodDeletionCost, features.LogarithmicScaleDown} {
		if !utilfeature.DefaultFeatureGate.Enabled(f) {
			if err := utilfeature.DefaultMutableFeatureGate.Set(string(f) + "=true"); err != nil {
				t.Fatalf("enabling %s: %v", f, err)
			}
		}
	}
	if !utilfeature.DefaultFeatureGate.Enabled(features.PodDeletionCost) || !utilfeature.DefaultFeatureGate.Enabled(features.LogarithmicScaleDown) {
		t.Fatal("upstream feature gates PodDeletionCost and LogarithmicScaleDown must be on")
	}
}

// upstream builds upstream's sortable list over fresh copies of the slices.
func upstream(s podSet) controller.ActivePodsWithRanks {
	return controller.ActivePodsWithRanks{Pods: slices.Clone(s.pods), Rank: slices.Clone(s.ranks), Now: metav1.NewTime(s.now)}
}

// lessMatrix is upstream's Less(i, j) for every pair, indexed by position in
// s.pods.
func lessMatrix(s podSet) [][]bool {
	up := upstream(s)
	m := make([][]bool, len(s.pods))
	for i := range m {
		m[i] = make([]bool, len(s.pods))
		for j := range m[i] {
			m[i][j] = up.Less(i, j)
		}
	}
	return m
}

// intransitive returns a triple witnessing that less is not a strict weak
// order (sorting is then ill-defined), or nil.
func intransitive(less [][]bool) []int {
	n := len(less)
	inc := func(a, b int) bool { return !less[a][b] && !less[b][a] }
	for i := range n {
		if less[i][i] {
			return []int{i, i, i}
		}
	}
	for i := range n {
		for j := range n {
			if i == j {
				continue
			}
			if less[i][j] && less[j][i] {
				return []int{i, j, i}
			}
			for k := range n {
				if k == i || k == j {
					continue
				}
				if less[i][j] && less[j][k] && !less[i][k] {
					return []int{i, j, k}
				}
				if inc(i, j) && inc(j, k) && !inc(i, k) {
					return []int{i, j, k}
				}
			}
		}
	}
	return nil
}

// violation is a chosen pod c and an unchosen pod u that upstream ranks
// strictly before c: a correct scale-down would have deleted u first.
type violation struct{ chosen, unchosen int }

// cutViolations checks a chosen set against upstream's order: no chosen c and
// unchosen u with Less(u, c) && !Less(c, u).
func cutViolations(less [][]bool, chosen []bool) []violation {
	var vs []violation
	for c := range chosen {
		if !chosen[c] {
			continue
		}
		for u := range chosen {
			if !chosen[u] && less[u][c] && !less[c][u] {
				vs = append(vs, violation{c, u})
			}
		}
	}
	return vs
}

// oursChoose runs the model's PodsToDelete on fresh copies of the set and
// returns which original positions it chose, checking that its result is n
// distinct input pods and that ranks stayed paired with their pods.
func oursChoose(t testing.TB, policy replicaset.ScaleDown, s podSet, n int) (chosen []bool, order []int) {
	t.Helper()
	pos := make(map[*corev1.Pod]int, len(s.pods))
	for i, p := range s.pods {
		pos[p] = i
	}
	pods, ranks := slices.Clone(s.pods), slices.Clone(s.ranks)
	got := replicaset.PodsToDelete(policy, pods, ranks, n, s.now, rand.New(rand.NewPCG(1, 2)))
	if len(got) != n {
		t.Fatalf("PodsToDelete(%s, %d pods, n=%d) returned %d pods", policy, len(s.pods), n, len(got))
	}
	chosen = make([]bool, len(s.pods))
	for _, p := range got {
		i, ok := pos[p]
		if !ok || chosen[i] {
			t.Fatalf("PodsToDelete(%s) returned a pod not in the input or twice: %s", policy, p.UID)
		}
		chosen[i] = true
	}
	for k, p := range pods {
		if i, ok := pos[p]; !ok || ranks[k] != s.ranks[i] {
			t.Fatalf("PodsToDelete(%s) separated pod %s from its rank", policy, p.UID)
		}
		order = append(order, pos[p])
	}
	return chosen, order
}

// upstreamChoose sorts upstream's list with sort.Sort, as the ReplicaSet
// controller does, and returns which original positions are in the first n.
func upstreamChoose(s podSet, n int) (chosen []bool, order []int) {
	pos := make(map[*corev1.Pod]int, len(s.pods))
	for i, p := range s.pods {
		pos[p] = i
	}
	up := upstream(s)
	sort.Sort(up)
	chosen = make([]bool, len(s.pods))
	for k, p := range up.Pods {
		chosen[pos[p]] = k < n
		order = append(order, pos[p])
	}
	return chosen, order
}

// report collects what a checker found over the corpus.
type report struct {
	pairChecks, pairViolations int // every pair as a 2-pod set, both input orders
	setChecks, setViolations   int // every (set, n) on sets where upstream's Less is a strict weak order
	skippedSets                int // sets where it is not
	examples                   []string
}

// add records an example unless there are enough already or it is a repeat.
func (r *report) add(example func() string) {
	if len(r.examples) < maxReportedPairs {
		if e := example(); !slices.Contains(r.examples, e) {
			r.examples = append(r.examples, e)
		}
	}
}

// check runs a chooser over the corpus: (1) on every pair of pods of every set,
// as a 2-pod set in both input orders, deleting 1; (2) on every set whose
// upstream Less is a strict weak order, for every n in 1..len-1. Each result
// must have no cut violation against upstream's Less.
func check(t testing.TB, sets []podSet, choose func(s podSet, n int) []bool) report {
	var rep report
	for si, s := range sets {
		less := lessMatrix(s)
		for i := range s.pods {
			for j := range s.pods {
				if i == j {
					continue
				}
				pair := podSet{pods: []*corev1.Pod{s.pods[i], s.pods[j]}, ranks: []int{s.ranks[i], s.ranks[j]}, now: s.now}
				pl := [][]bool{{less[i][i], less[i][j]}, {less[j][i], less[j][j]}}
				rep.pairChecks++
				for _, v := range cutViolations(pl, choose(pair, 1)) {
					rep.pairViolations++
					idx := []int{i, j}
					c, u := idx[v.chosen], idx[v.unchosen]
					rep.add(func() string {
						return fmt.Sprintf("set %d, pair: deleted %s but upstream deletes %s first (upstream Less(%s,%s)=true, Less(%s,%s)=false; first differing rule: %s)\n    deleted: %s\n    kept:    %s",
							si, s.pods[c].UID, s.pods[u].UID, s.pods[u].UID, s.pods[c].UID, s.pods[c].UID, s.pods[u].UID,
							decidingRule(s, u, c), describe(s, c), describe(s, u))
					})
				}
			}
		}
		if w := intransitive(less); w != nil {
			rep.skippedSets++
			continue
		}
		for n := 1; n < len(s.pods); n++ {
			rep.setChecks++
			vs := cutViolations(less, choose(s, n))
			rep.setViolations += len(vs)
			for _, v := range vs {
				rep.add(func() string {
					return fmt.Sprintf("set %d (%d pods, delete %d): deleted %s but kept %s, which upstream deletes first (first differing rule: %s)\n    deleted: %s\n    kept:    %s",
						si, len(s.pods), n, s.pods[v.chosen].UID, s.pods[v.unchosen].UID, decidingRule(s, v.unchosen, v.chosen), describe(s, v.chosen), describe(s, v.unchosen))
				})
			}
		}
	}
	return rep
}

func (r report) String() string {
	return fmt.Sprintf("pairs: %d violations in %d checks; sets: %d violations in %d (set, n) checks; %d of %d sets skipped (upstream Less not a strict weak order)",
		r.pairViolations, r.pairChecks, r.setViolations, r.setChecks, r.skippedSets, *numSets)
}

func oursChooser(t testing.TB, policy replicaset.ScaleDown) func(podSet, int) []bool {
	return func(s podSet, n int) []bool {
		c, _ := oursChoose(t, policy, s, n)
		return c
	}
}

func upstreamChooser(s podSet, n int) []bool {
	c, _ := upstreamChoose(s, n)
	return c
}

// corpora are the generator configurations the agreement tests run on:
// "base" has the fields listed in genPod; "sidecars" also has sidecar
// (restartable init) containers, whose restarts upstream compares when the
// regular containers' restarts tie (rule 7).
var corpora = []struct {
	name string
	opts genOpts
}{
	{"base", genOpts{}},
	{"sidecars", genOpts{sidecars: true}},
}

// TestUpstreamAgrees: the Upstream policy never deletes a pod that upstream
// ranks strictly after one it keeps.
func TestUpstreamAgrees(t *testing.T) {
	requireUpstreamGates(t)
	for _, c := range corpora {
		t.Run(c.name, func(t *testing.T) {
			rep := check(t, corpus(c.opts), oursChooser(t, replicaset.Upstream))
			t.Log(rep)
			if rep.pairViolations+rep.setViolations > 0 {
				t.Errorf("replicaset.Upstream disagrees with upstream ActivePodsWithRanks: %s\n  %s", rep, strings.Join(rep.examples, "\n  "))
			}
		})
	}
}

// TestSameChoiceAsUpstreamSort: given the same input order, the Upstream
// policy deletes exactly the pods that sort.Sort on ActivePodsWithRanks puts
// first, as the ReplicaSet controller does — also on sets where upstream's
// Less is not a strict weak order, and among pods upstream ranks equal.
func TestSameChoiceAsUpstreamSort(t *testing.T) {
	requireUpstreamGates(t)
	for _, c := range corpora {
		t.Run(c.name, func(t *testing.T) {
			mismatches, checks := 0, 0
			for si, s := range corpus(c.opts) {
				if len(s.pods) < 2 {
					continue
				}
				checks++
				_, ours := oursChoose(t, replicaset.Upstream, s, len(s.pods)-1)
				_, theirs := upstreamChoose(s, len(s.pods)-1)
				if !slices.Equal(ours, theirs) {
					mismatches++
					if mismatches <= maxReportedPairs {
						t.Errorf("set %d: order (input positions) differs from upstream's sort.Sort\n  ours:     %v\n  upstream: %v", si, ours, theirs)
					}
				}
			}
			t.Logf("%d of %d sets sorted differently", mismatches, checks)
		})
	}
}

// TestHarnessUpstreamSelf: upstream's own sort.Sort passes the checker on
// every set it applies to (sanity of the checker), and the corpus does
// exercise sets where upstream's Less is not a strict weak order.
func TestHarnessUpstreamSelf(t *testing.T) {
	requireUpstreamGates(t)
	sets := corpus(genOpts{sidecars: true})
	rep := check(t, sets, upstreamChooser)
	t.Log(rep)
	if rep.pairViolations+rep.setViolations > 0 {
		t.Errorf("upstream's own order fails the checker: %s\n  %s", rep, strings.Join(rep.examples, "\n  "))
	}
	if rep.setChecks < *numSets {
		t.Errorf("only %d (set, n) checks ran: the corpus is too degenerate", rep.setChecks)
	}
	// On sets skipped above, a cut of upstream's own sort can violate its Less:
	// report how often, as a property of upstream rather than of the model.
	selfViolating, skipped := 0, 0
	for si, s := range sets {
		less := lessMatrix(s)
		w := intransitive(less)
		if w == nil {
			continue
		}
		skipped++
		for n := 1; n < len(s.pods); n++ {
			if len(cutViolations(less, upstreamChooser(s, n))) > 0 {
				selfViolating++
				if selfViolating == 1 {
					t.Logf("example: set %d, upstream Less is not a strict weak order on %s, %s, %s:\n    %s\n    %s\n    %s", si,
						s.pods[w[0]].UID, s.pods[w[1]].UID, s.pods[w[2]].UID, describe(s, w[0]), describe(s, w[1]), describe(s, w[2]))
				}
				break
			}
		}
	}
	t.Logf("%d sets where upstream's Less is not a strict weak order; in %d of them some cut of upstream's own sort.Sort violates its Less", skipped, selfViolating)
}

// TestNegativeControls: wrong orderings must be caught by the same checker on
// the same corpus, so that a pass of TestUpstreamAgrees means something.
func TestNegativeControls(t *testing.T) {
	requireUpstreamGates(t)
	sets := corpus(genOpts{})
	for _, policy := range []replicaset.ScaleDown{replicaset.OldestFirst, replicaset.NewestFirst, replicaset.LinearAge} {
		rep := check(t, sets, oursChooser(t, policy))
		t.Logf("%s: %s", policy, rep)
		if rep.pairViolations == 0 || rep.setViolations == 0 {
			t.Errorf("the checker did not catch policy %s: %s", policy, rep)
		}
	}
}

// decidingRule names the first of upstream's rules on which pods a and b
// differ (diagnostics only; the verdicts come from upstream's Less).
func decidingRule(s podSet, a, b int) string {
	pa, pb := s.pods[a], s.pods[b]
	cost := func(p *corev1.Pod) int32 { c, _ := helper.GetDeletionCostFromPodAnnotations(p.Annotations); return c }
	switch {
	case pa.Spec.NodeName != pb.Spec.NodeName && (pa.Spec.NodeName == "" || pb.Spec.NodeName == ""):
		return "rule 1 (unassigned)"
	case phaseOrd(pa) != phaseOrd(pb):
		return "rule 2 (phase)"
	case podutil.IsPodReady(pa) != podutil.IsPodReady(pb):
		return "rule 3 (ready)"
	case cost(pa) != cost(pb):
		return "rule 4 (deletion cost)"
	case s.ranks[a] != s.ranks[b]:
		return "rule 5 (rank)"
	case podutil.IsPodReady(pa) && !readyTime(pa).Equal(readyTime(pb)):
		return "rule 6 (ready time)"
	case restarts(pa.Status.ContainerStatuses, nil) != restarts(pb.Status.ContainerStatuses, nil):
		return "rule 7 (container restarts)"
	case restarts(pa.Status.InitContainerStatuses, pa.Spec.InitContainers) != restarts(pb.Status.InitContainerStatuses, pb.Spec.InitContainers):
		return "rule 7 (sidecar restarts, after container restarts tie)"
	case !pa.CreationTimestamp.Equal(&pb.CreationTimestamp):
		return "rule 8 (creation time)"
	}
	return "no rule (equal)"
}

func phaseOrd(p *corev1.Pod) int {
	return map[corev1.PodPhase]int{corev1.PodPending: 0, corev1.PodUnknown: 1, corev1.PodRunning: 2}[p.Status.Phase]
}

func readyTime(p *corev1.Pod) time.Time {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			return c.LastTransitionTime.Time
		}
	}
	return time.Time{}
}

// restarts is the highest restart count among statuses; with specs given,
// only among sidecars (init containers with restartPolicy Always).
func restarts(statuses []corev1.ContainerStatus, specs []corev1.Container) int32 {
	sidecar := map[string]bool{}
	for _, c := range specs {
		sidecar[c.Name] = c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
	}
	var n int32
	for _, c := range statuses {
		if specs == nil || sidecar[c.Name] {
			n = max(n, c.RestartCount)
		}
	}
	return n
}

func describe(s podSet, i int) string {
	p := s.pods[i]
	ts := func(t time.Time) string {
		switch {
		case t.IsZero():
			return "zero"
		case s.now.IsZero():
			return t.Format(time.RFC3339Nano)
		case t.After(s.now):
			return "now+" + t.Sub(s.now).String()
		}
		return "now-" + s.now.Sub(t).String()
	}
	ready := "absent"
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			ready = fmt.Sprintf("%s@%s", c.Status, ts(c.LastTransitionTime.Time))
			break
		}
	}
	cost := "absent"
	if v, ok := p.Annotations[replicaset.DeletionCostAnnotation]; ok {
		cost = fmt.Sprintf("%q", v)
	}
	now := "zero"
	if !s.now.IsZero() {
		now = s.now.Format(time.RFC3339)
	}
	return fmt.Sprintf("uid=%q node=%q phase=%s ready=%s cost=%s rank=%d restarts=%d sidecarRestarts=%d created=%s (now=%s)",
		p.UID, p.Spec.NodeName, p.Status.Phase, ready, cost, s.ranks[i],
		restarts(p.Status.ContainerStatuses, nil), restarts(p.Status.InitContainerStatuses, p.Spec.InitContainers),
		ts(p.CreationTimestamp.Time), now)
}
