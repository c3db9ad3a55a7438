package upstreamdiff

// The Deployment model's arithmetic (models/deployment) against upstream's own
// functions in k8s.io/kubernetes/pkg/controller/deployment/util and
// pkg/controller: a table of the documented cases, then a randomized sweep
// whose corpus is fixed by -seed (and -sets for its size).

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/pkg/controller"
	deploymentutil "k8s.io/kubernetes/pkg/controller/deployment/util"

	"github.com/ctrlsim/ctrlsim/harness/kube"
	"github.com/ctrlsim/ctrlsim/models/deployment"
)

func pint(n int32) *int32 { return &n }

func ios(s string) *intstr.IntOrString {
	if s == "nil" {
		return nil
	}
	v := intstr.Parse(s)
	return &v
}

// TestFencepostsTable: the cases of upstream's own documentation and the
// reference's (10 replicas at 25%/25% give 3 and 2; both 0 give 1
// unavailable).
func TestFencepostsTable(t *testing.T) {
	for _, tc := range []struct {
		surge, unavailable string
		desired            int32
		wantS, wantU       int32
	}{
		{"25%", "25%", 10, 3, 2},
		{"25%", "25%", 1, 1, 0},
		{"0%", "1%", 2, 0, 1}, // rounds down to 0, then the both-zero rule
		{"1%", "25%", 2, 1, 0},
		{"1%", "0%", 1, 1, 0},
		{"0", "0", 5, 0, 1},
		{"nil", "nil", 5, 0, 1},
		{"1", "1", 3, 1, 1},
		{"50%", "50%", 3, 2, 1},
		{"100%", "100%", 0, 0, 1},
		{"30%", "0", 10, 3, 0},
	} {
		t.Run(fmt.Sprintf("%s/%s/%d", tc.surge, tc.unavailable, tc.desired), func(t *testing.T) {
			s, u, err := kube.ResolveFenceposts(ios(tc.surge), ios(tc.unavailable), tc.desired)
			require.NoError(t, err)
			assert.Equal(t, [2]int32{tc.wantS, tc.wantU}, [2]int32{s, u})
			us, uu, uerr := deploymentutil.ResolveFenceposts(ios(tc.surge), ios(tc.unavailable), tc.desired)
			require.NoError(t, uerr)
			assert.Equal(t, [2]int32{us, uu}, [2]int32{s, u}, "upstream")
		})
	}
}

// --- the randomized corpus ---

var intOrStrings = []string{"nil", "0", "1", "2", "3", "5", "0%", "1%", "10%", "25%", "33%", "50%", "99%", "100%", "150%", "abc", "5.5%", "-10%", "-1"}

func genIntOrString(r *rand.Rand) *intstr.IntOrString { return ios(pick(r, intOrStrings)) }

func genReplicas(r *rand.Rand) int32 {
	switch r.IntN(10) {
	case 0:
		return 0
	case 1:
		return int32(r.IntN(100_000)) // large: int32 products wrap in upstream's fraction
	}
	return int32(r.IntN(30))
}

var epochs = []time.Time{
	time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
	time.Date(2025, 1, 1, 0, 0, 1, 0, time.UTC),
	time.Date(2025, 1, 1, 0, 1, 0, 0, time.UTC),
}

func genDeployment(r *rand.Rand) *appsv1.Deployment {
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "d-uid"}}
	d.Spec.Replicas = pint(genReplicas(r))
	switch r.IntN(6) {
	case 0:
		d.Spec.Strategy.Type = appsv1.RecreateDeploymentStrategyType
	default:
		d.Spec.Strategy.Type = appsv1.RollingUpdateDeploymentStrategyType
		d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxSurge: genIntOrString(r), MaxUnavailable: genIntOrString(r)}
	}
	d.Status.Replicas = int32(r.IntN(40))
	return d
}

// validDeployment draws until the strategy resolves (what the API server
// admits); upstream dereferences and ignores the errors of invalid ones.
func validDeployment(r *rand.Rand) *appsv1.Deployment {
	for {
		d := genDeployment(r)
		if d.Spec.Strategy.RollingUpdate == nil {
			return d
		}
		ru := d.Spec.Strategy.RollingUpdate
		if ru.MaxSurge == nil || ru.MaxUnavailable == nil {
			continue
		}
		if _, _, err := deploymentutil.ResolveFenceposts(ru.MaxSurge, ru.MaxUnavailable, *d.Spec.Replicas); err == nil {
			return d
		}
	}
}

var maxReplicasValues = []string{"-", "-", "0", "x", "-1", "4294967296", "3000000000", "2147483647"}

func genRS(r *rand.Rand, i int, d *appsv1.Deployment) *appsv1.ReplicaSet {
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{
		Name: fmt.Sprintf("web-%c", 'a'+i), Namespace: "default", UID: types.UID(fmt.Sprintf("rs-%d", i)),
		CreationTimestamp: metav1.NewTime(pick(r, epochs)), Annotations: map[string]string{},
	}}
	spec := int32(r.IntN(25))
	if r.IntN(4) == 0 {
		spec = 0
	}
	rs.Spec.Replicas = pint(spec)
	// max-replicas: usually what a past scaling recorded, sometimes odd.
	switch v := pick(r, maxReplicasValues); {
	case r.IntN(3) > 0:
		rs.Annotations[deployment.MaxReplicasAnnotation] = strconv.Itoa(int(*d.Spec.Replicas) + r.IntN(20))
	case v != "-":
		rs.Annotations[deployment.MaxReplicasAnnotation] = v
	}
	desired := *d.Spec.Replicas
	if r.IntN(3) == 0 {
		desired = int32(r.IntN(30))
	}
	if r.IntN(8) > 0 {
		rs.Annotations[deployment.DesiredReplicasAnnotation] = strconv.Itoa(int(desired))
	}
	rs.Status.AvailableReplicas = spec
	if r.IntN(3) == 0 {
		rs.Status.AvailableReplicas = int32(r.IntN(int(spec) + 1))
	}
	return rs
}

// scaleCase is a Deployment with its new ReplicaSet (maybe none) and old ones.
type scaleCase struct {
	d      *appsv1.Deployment
	newRS  *appsv1.ReplicaSet
	oldRSs []*appsv1.ReplicaSet
}

func genScaleCase(r *rand.Rand) scaleCase {
	d := validDeployment(r)
	n := r.IntN(5)
	var rss []*appsv1.ReplicaSet
	for i := 0; i < n; i++ {
		rss = append(rss, genRS(r, i, d))
	}
	c := scaleCase{d: d}
	if n > 0 && r.IntN(4) > 0 {
		k := r.IntN(n)
		c.newRS = rss[k]
		rss = slices.Delete(rss, k, k+1)
		if r.IntN(3) == 0 { // a saturated new ReplicaSet
			c.newRS.Spec.Replicas = pint(*d.Spec.Replicas)
			c.newRS.Status.AvailableReplicas = *d.Spec.Replicas
			c.newRS.Annotations[deployment.DesiredReplicasAnnotation] = strconv.Itoa(int(*d.Spec.Replicas))
		}
	}
	c.oldRSs = rss
	return c
}

func (c scaleCase) String() string {
	s := fmt.Sprintf("deployment replicas=%d strategy=%s", *c.d.Spec.Replicas, c.d.Spec.Strategy.Type)
	if ru := c.d.Spec.Strategy.RollingUpdate; ru != nil {
		s += fmt.Sprintf(" surge=%v unavailable=%v", ru.MaxSurge, ru.MaxUnavailable)
	}
	s += fmt.Sprintf(" status.replicas=%d", c.d.Status.Replicas)
	for _, rs := range append([]*appsv1.ReplicaSet{c.newRS}, c.oldRSs...) {
		if rs == nil {
			s += "\n    new: none"
			continue
		}
		s += fmt.Sprintf("\n    %s spec=%d available=%d created=%s annotations=%v", rs.Name, *rs.Spec.Replicas, rs.Status.AvailableReplicas,
			rs.CreationTimestamp.Format(time.TimeOnly), rs.Annotations)
	}
	return s
}

func copies(rss []*appsv1.ReplicaSet) []*appsv1.ReplicaSet {
	out := make([]*appsv1.ReplicaSet, len(rss))
	for i, rs := range rss {
		out[i] = rs.DeepCopy()
	}
	return out
}

// TestFencepostsSweep: ResolveFenceposts, MaxSurge and MaxUnavailable over
// random bounds and sizes, invalid values included (the error, not the
// numbers, must agree then).
func TestFencepostsSweep(t *testing.T) {
	r := rand.New(rand.NewPCG(*seed, 1))
	mismatches := 0
	for i := 0; i < 20**numSets; i++ {
		surge, unavailable, desired := genIntOrString(r), genIntOrString(r), genReplicas(r)
		s, u, err := kube.ResolveFenceposts(surge, unavailable, desired)
		us, uu, uerr := deploymentutil.ResolveFenceposts(surge, unavailable, desired)
		if (err != nil) != (uerr != nil) || (err == nil && (s != us || u != uu)) {
			mismatches++
			if mismatches <= maxReportedPairs {
				t.Errorf("ResolveFenceposts(%v, %v, %d) = %d, %d, %v; upstream %d, %d, %v", surge, unavailable, desired, s, u, err, us, uu, uerr)
			}
		}
	}
	for i := 0; i < 5**numSets; i++ {
		d := validDeployment(r)
		if got, want := deployment.MaxSurge(d), deploymentutil.MaxSurge(*d); got != want {
			mismatches++
			t.Errorf("MaxSurge %s = %d, upstream %d", scaleCase{d: d}, got, want)
		}
		if got, want := deployment.MaxUnavailable(d), deploymentutil.MaxUnavailable(*d); got != want {
			mismatches++
			t.Errorf("MaxUnavailable %s = %d, upstream %d", scaleCase{d: d}, got, want)
		}
		if mismatches > maxReportedPairs {
			t.FailNow()
		}
	}
}

// TestNewRSReplicasSweep: the new ReplicaSet's next size, including invalid
// strategies and surges (the error must agree).
func TestNewRSReplicasSweep(t *testing.T) {
	r := rand.New(rand.NewPCG(*seed, 2))
	mismatches := 0
	for i := 0; i < 5**numSets; i++ {
		c := genScaleCase(r)
		d := c.d
		if r.IntN(20) == 0 {
			d.Spec.Strategy = appsv1.DeploymentStrategy{Type: "Canary"}
		} else if ru := d.Spec.Strategy.RollingUpdate; ru != nil && r.IntN(10) == 0 {
			ru.MaxSurge = ios(pick(r, []string{"abc", "-5%", "7"}))
		}
		newRS := c.newRS
		if newRS == nil {
			newRS = &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "web-new"}, Spec: appsv1.ReplicaSetSpec{Replicas: pint(0)}}
		}
		all := append(copies(c.oldRSs), newRS)
		got, err := deployment.NewRSReplicas(d, all, newRS)
		want, uerr := deploymentutil.NewRSNewReplicas(d, all, newRS)
		if (err != nil) != (uerr != nil) || (err == nil && got != want) {
			mismatches++
			if mismatches <= maxReportedPairs {
				t.Errorf("NewRSReplicas = %d, %v; upstream %d, %v\n  %s", got, err, want, uerr, c)
			}
		}
	}
}

// TestProportionSweep: one ReplicaSet's share of a scaling event
// (GetReplicaSetProportion, with getReplicaSetFraction inside it).
func TestProportionSweep(t *testing.T) {
	r := rand.New(rand.NewPCG(*seed, 3))
	logger := klog.Background()
	mismatches, nonzero := 0, 0
	for i := 0; i < 20**numSets; i++ {
		d := validDeployment(r)
		rs := genRS(r, 0, d)
		if r.IntN(10) == 0 {
			rs.Spec.Replicas = pint(int32(r.IntN(100_000)))
		}
		toAdd := int32(r.IntN(81) - 40)
		added := int32(0)
		if toAdd != 0 && r.IntN(2) == 0 {
			added = int32(r.IntN(int(max(toAdd, -toAdd)) + 1))
			if toAdd < 0 {
				added = -added
			}
		}
		var got, want int32
		if r.IntN(50) == 0 {
			got, want = deployment.Proportion(nil, d, toAdd, added), deploymentutil.GetReplicaSetProportion(logger, nil, *d, toAdd, added)
		} else {
			got, want = deployment.Proportion(rs, d, toAdd, added), deploymentutil.GetReplicaSetProportion(logger, rs, *d, toAdd, added)
		}
		if want != 0 {
			nonzero++
		}
		if got != want {
			mismatches++
			if mismatches <= maxReportedPairs {
				t.Errorf("Proportion(toAdd %d, added %d) = %d, upstream %d\n  %s", toAdd, added, got, want, scaleCase{d: d, newRS: rs})
			}
		}
	}
	t.Logf("%d of %d cases with a nonzero proportion", nonzero, 20**numSets)
	assert.Greater(t, nonzero, *numSets, "the corpus exercises the fraction")
}

// plan is a scaling: the writes, in order (name, size, forced).
type plan []string

func oursPlan(c scaleCase, newestOnly bool) plan {
	var out plan
	for _, st := range deployment.ScalePlan(c.d, c.newRS, c.oldRSs, newestOnly) {
		out = append(out, fmt.Sprintf("%s=%d force=%v", st.RS.Name, st.Replicas, st.Force))
	}
	return out
}

// upstreamPlan is upstream's DeploymentController.scale (unexported, and
// writing through a client) assembled from the exported parts it is made of:
// FindActiveOrLatest, IsSaturated, FilterActiveReplicaSets, the two size
// orders, GetReplicaSetProportion and the leftover to the first.
func upstreamPlan(c scaleCase) plan {
	d, newRS, oldRSs := c.d, c.newRS, slices.Clone(c.oldRSs)
	if rs := deploymentutil.FindActiveOrLatest(newRS, oldRSs); rs != nil {
		if *rs.Spec.Replicas == *d.Spec.Replicas {
			return nil
		}
		return plan{fmt.Sprintf("%s=%d force=false", rs.Name, *d.Spec.Replicas)}
	}
	if deploymentutil.IsSaturated(d, newRS) {
		var out plan
		for _, old := range controller.FilterActiveReplicaSets(oldRSs) {
			out = append(out, fmt.Sprintf("%s=%d force=false", old.Name, 0))
		}
		return out
	}
	if !deploymentutil.IsRollingUpdate(d) {
		return nil
	}
	all := controller.FilterActiveReplicaSets(append(oldRSs, newRS))
	allowed := int32(0)
	if *d.Spec.Replicas > 0 {
		allowed = *d.Spec.Replicas + deploymentutil.MaxSurge(*d)
	}
	toAdd := allowed - deploymentutil.GetReplicaCountForReplicaSets(all)
	switch {
	case toAdd > 0:
		sort.Sort(controller.ReplicaSetsBySizeNewer(all))
	case toAdd < 0:
		sort.Sort(controller.ReplicaSetsBySizeOlder(all))
	}
	sizes := map[string]int32{}
	added := int32(0)
	for _, rs := range all {
		sizes[rs.Name] = *rs.Spec.Replicas
		if toAdd != 0 {
			p := deploymentutil.GetReplicaSetProportion(klog.Background(), rs, *d, toAdd, added)
			sizes[rs.Name] += p
			added += p
		}
	}
	var out plan
	for i, rs := range all {
		if i == 0 && toAdd != 0 {
			sizes[rs.Name] = max(0, sizes[rs.Name]+toAdd-added)
		}
		out = append(out, fmt.Sprintf("%s=%d force=true", rs.Name, sizes[rs.Name]))
	}
	return out
}

func scaleCorpus() []scaleCase {
	r := rand.New(rand.NewPCG(*seed, 4))
	out := make([]scaleCase, 5**numSets)
	for i := range out {
		out[i] = genScaleCase(r)
	}
	return out
}

// TestScalePlanSweep: the writes of a scaling event (proportional scaling)
// agree with upstream's, in order; and the named variant that ignores
// proportions (ScaleNewestOnly) is told apart by the same comparison.
func TestScalePlanSweep(t *testing.T) {
	mismatches, proportional, variantDiffers := 0, 0, 0
	for i, c := range scaleCorpus() {
		want := upstreamPlan(c)
		got := oursPlan(c, false)
		if len(want) > 1 || (len(want) == 1 && want[0][len(want[0])-4:] == "true") {
			proportional++
		}
		if !slices.Equal(got, want) {
			mismatches++
			if mismatches <= maxReportedPairs {
				t.Errorf("case %d: ScalePlan\n  ours:     %v\n  upstream: %v\n  %s", i, got, want, c)
			}
		}
		if !slices.Equal(oursPlan(c, true), want) {
			variantDiffers++
		}
	}
	t.Logf("%d of %d cases spread proportionally; the newest-only variant differs from upstream on %d", proportional, 5**numSets, variantDiffers)
	assert.Greater(t, proportional, *numSets/2, "the corpus exercises proportional scaling")
	assert.Positive(t, variantDiffers, "negative control: the comparison tells the newest-only variant from upstream")
}

// TestNegativeControlFenceposts: a surge rounded down instead of up is
// caught by the fencepost comparison on the same corpus.
func TestNegativeControlFenceposts(t *testing.T) {
	wrong := func(surge, unavailable *intstr.IntOrString, desired int32) (int32, int32, error) {
		zero := intstr.FromInt32(0)
		s, err := intstr.GetScaledValueFromIntOrPercent(intstr.ValueOrDefault(surge, zero), int(desired), false)
		if err != nil {
			return 0, 0, err
		}
		_, u, err := kube.ResolveFenceposts(surge, unavailable, desired)
		return int32(s), u, err
	}
	r := rand.New(rand.NewPCG(*seed, 1))
	caught := 0
	for i := 0; i < 20**numSets; i++ {
		surge, unavailable, desired := genIntOrString(r), genIntOrString(r), genReplicas(r)
		s, _, err := wrong(surge, unavailable, desired)
		us, _, uerr := deploymentutil.ResolveFenceposts(surge, unavailable, desired)
		if err == nil && uerr == nil && s != us {
			caught++
		}
	}
	assert.Positive(t, caught, "a surge rounded down must differ from upstream somewhere in the corpus")
}

// --- the pod-template hash and template equality ---

func genTemplate(r *rand.Rand) *corev1.PodTemplateSpec {
	t := &corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": pick(r, []string{"web", "nginx", "db"})}}}
	for i := r.IntN(3); i > 0; i-- {
		t.Labels[fmt.Sprintf("k%d", r.IntN(5))] = pick(r, []string{"a", "b", ""})
	}
	if r.IntN(3) == 0 {
		t.Annotations = map[string]string{"kubectl.kubernetes.io/restartedAt": "2025-01-01T00:00:00Z"}
	}
	for i := 1 + r.IntN(2); i > 0; i-- {
		ctr := corev1.Container{Name: fmt.Sprintf("c%d", i), Image: pick(r, []string{"nginx:1.7.9", "nginx:1.9.1", "nginx:1.91"})}
		if r.IntN(2) == 0 {
			ctr.Ports = []corev1.ContainerPort{{ContainerPort: int32(80 + r.IntN(3))}}
		}
		if r.IntN(3) == 0 {
			ctr.Env = []corev1.EnvVar{{Name: "MODE", Value: pick(r, []string{"a", "b"})}}
		}
		t.Spec.Containers = append(t.Spec.Containers, ctr)
	}
	if r.IntN(2) == 0 {
		t.Spec.TerminationGracePeriodSeconds = ptrTo(int64(r.IntN(60)))
	}
	if r.IntN(3) == 0 {
		t.Spec.NodeSelector = map[string]string{"disktype": "ssd", "zone": pick(r, []string{"a", "b"})}
	}
	return t
}

func ptrTo[T any](v T) *T { return &v }

var collisionCounts = []*int32{nil, nil, pint(0), pint(1), pint(7), pint(math.MaxInt32), pint(-1)}

// TestComputeHashSweep: the pod-template-hash (hence the ReplicaSet names)
// equals upstream's controller.ComputeHash, collision counts included.
func TestComputeHashSweep(t *testing.T) {
	r := rand.New(rand.NewPCG(*seed, 5))
	seen := map[string]bool{}
	for i := 0; i < *numSets; i++ {
		tmpl := genTemplate(r)
		cc := pick(r, collisionCounts)
		got, want := kube.ComputeHash(tmpl, cc), controller.ComputeHash(tmpl, cc)
		require.Equal(t, want, got, "template %+v, collisionCount %v", tmpl, cc)
		seen[got] = true
	}
	assert.Greater(t, len(seen), *numSets/10, "the corpus has many distinct templates")
}

// TestEqualIgnoreHashSweep: template equality but for pod-template-hash.
func TestEqualIgnoreHashSweep(t *testing.T) {
	r := rand.New(rand.NewPCG(*seed, 6))
	equal := 0
	for i := 0; i < *numSets; i++ {
		a := genTemplate(r)
		b := a.DeepCopy()
		switch r.IntN(4) {
		case 0:
			b = genTemplate(r)
		case 1:
			b.Labels[appsv1.DefaultDeploymentUniqueLabelKey] = "abc123"
		case 2:
			b.Labels = map[string]string{}
			for k, v := range a.Labels {
				b.Labels[k] = v
			}
			if r.IntN(2) == 0 {
				a.Labels[appsv1.DefaultDeploymentUniqueLabelKey] = "x"
			}
		}
		got, want := kube.EqualIgnoreHash(a, b), deploymentutil.EqualIgnoreHash(a, b)
		require.Equal(t, want, got, "%+v\n%+v", a, b)
		if got {
			equal++
		}
	}
	assert.Positive(t, equal)
	assert.Less(t, equal, *numSets)
}
