package statefulset

import (
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/kube"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// A pod's identity under its set: the ordinal in its name <set>-<ordinal>,
// its hostname and subdomain, the pod-name and pod-index labels and one
// claim per volumeClaimTemplate.

// parentAndOrdinal splits a pod name <parent>-<digits> at its last dash, as
// upstream's "(.*)-([0-9]+)$". The ordinal is -1 when the name has no such
// form or the number does not fit an int32 (the parent is still returned
// then).
func parentAndOrdinal(name string) (string, int) {
	i := strings.LastIndexByte(name, '-')
	if i < 0 || i == len(name)-1 {
		return "", -1
	}
	digits := name[i+1:]
	for j := 0; j < len(digits); j++ {
		if digits[j] < '0' || digits[j] > '9' {
			return "", -1
		}
	}
	n, err := strconv.ParseInt(digits, 10, 32)
	if err != nil {
		return name[:i], -1
	}
	return name[:i], int(n)
}

func startOrdinal(set *appsv1.StatefulSet) int {
	if set.Spec.Ordinals != nil {
		return int(set.Spec.Ordinals.Start)
	}
	return 0
}

func replicasOf(set *appsv1.StatefulSet) int {
	if set.Spec.Replicas == nil {
		return 1
	}
	return int(*set.Spec.Replicas)
}

// endOrdinal is the last ordinal of the set's range (inclusive).
func endOrdinal(set *appsv1.StatefulSet) int { return startOrdinal(set) + replicasOf(set) - 1 }

func podName(set *appsv1.StatefulSet, ordinal int) string {
	return set.Name + "-" + strconv.Itoa(ordinal)
}

func claimName(set *appsv1.StatefulSet, template string, ordinal int) string {
	return template + "-" + set.Name + "-" + strconv.Itoa(ordinal)
}

// identity is what the controller reads of a pod's place in its set.
type identity struct {
	ordinal int // -1: none
	member  bool
	// surrogate: a NoIdentityGuard replacement <set>-<i>-<random> holding
	// ordinal i by its pod-index label.
	surrogate bool
}

// identify finds pod's ordinal in set. Upstream reads only the name; with
// NoIdentityGuard a pod named <set>-<i>-<suffix> whose pod-index label is i
// holds ordinal i too.
func (c *Controller) identify(set *appsv1.StatefulSet, pod *corev1.Pod) identity {
	if c.opts.NoIdentityGuard {
		if v, ok := pod.Labels[appsv1.PodIndexLabel]; ok && strings.HasPrefix(pod.Name, set.Name+"-"+v+"-") {
			if n, err := strconv.ParseInt(v, 10, 32); err == nil && n >= 0 {
				return identity{ordinal: int(n), member: true, surrogate: true}
			}
		}
	}
	parent, ord := parentAndOrdinal(pod.Name)
	return identity{ordinal: ord, member: parent == set.Name}
}

func (c *Controller) ordinalOf(set *appsv1.StatefulSet, pod *corev1.Pod) int {
	return c.identify(set, pod).ordinal
}

func inRange(set *appsv1.StatefulSet, ordinal int) bool {
	return ordinal >= startOrdinal(set) && ordinal <= endOrdinal(set)
}

// identityMatches: the pod has its ordinal's name, namespace and pod-name
// label. (A NoIdentityGuard surrogate matches with the ordinal's labels.)
func (c *Controller) identityMatches(set *appsv1.StatefulSet, pod *corev1.Pod) bool {
	id := c.identify(set, pod)
	if !id.member || id.ordinal < 0 || pod.Namespace != set.Namespace {
		return false
	}
	want := podName(set, id.ordinal)
	if id.surrogate {
		return pod.Labels[appsv1.StatefulSetPodNameLabel] == want
	}
	return pod.Name == want && pod.Labels[appsv1.StatefulSetPodNameLabel] == pod.Name
}

// storageMatches: every claim template has a volume of its name that mounts
// the ordinal's claim.
func (c *Controller) storageMatches(set *appsv1.StatefulSet, pod *corev1.Pod) bool {
	ord := c.ordinalOf(set, pod)
	if ord < 0 {
		return false
	}
	for _, t := range set.Spec.VolumeClaimTemplates {
		found := false
		for _, v := range pod.Spec.Volumes {
			if v.Name != t.Name {
				continue
			}
			found = v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == claimName(set, t.Name, ord)
			break
		}
		if !found {
			return false
		}
	}
	return true
}

// setIdentity gives pod its ordinal's name (unless a surrogate), namespace
// and labels.
func (c *Controller) setIdentity(set *appsv1.StatefulSet, pod *corev1.Pod, ordinal int) {
	id := c.identify(set, pod)
	if !id.surrogate {
		pod.Name = podName(set, ordinal)
	}
	pod.Namespace = set.Namespace
	if pod.Labels == nil {
		pod.Labels = map[string]string{}
	}
	pod.Labels[appsv1.StatefulSetPodNameLabel] = podName(set, ordinal)
	pod.Labels[appsv1.PodIndexLabel] = strconv.Itoa(ordinal)
}

// setStorage points the pod's volumes named after claim templates at the
// ordinal's claims (in template order, then the pod's other volumes).
func setStorage(set *appsv1.StatefulSet, pod *corev1.Pod, ordinal int) {
	fromTemplate := map[string]bool{}
	volumes := make([]corev1.Volume, 0, len(set.Spec.VolumeClaimTemplates)+len(pod.Spec.Volumes))
	for _, t := range set.Spec.VolumeClaimTemplates {
		if fromTemplate[t.Name] {
			continue
		}
		fromTemplate[t.Name] = true
		volumes = append(volumes, corev1.Volume{Name: t.Name, VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claimName(set, t.Name, ordinal)}}})
	}
	for _, v := range pod.Spec.Volumes {
		if !fromTemplate[v.Name] {
			volumes = append(volumes, v)
		}
	}
	pod.Spec.Volumes = volumes
}

// newPod is the set's pod for ordinal from its template: the template's
// labels, annotations, finalizers and spec, a controller reference, the
// ordinal's identity, hostname and subdomain, and its claims.
func newPod(set *appsv1.StatefulSet, ordinal int) *corev1.Pod {
	tmpl := &set.Spec.Template
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:            podName(set, ordinal),
			GenerateName:    set.Name + "-",
			Namespace:       set.Namespace,
			Labels:          maps.Clone(tmpl.Labels),
			Annotations:     maps.Clone(tmpl.Annotations),
			Finalizers:      append([]string(nil), tmpl.Finalizers...),
			OwnerReferences: []metav1.OwnerReference{apiserver.OwnerReference(set)},
		},
		Spec: *tmpl.Spec.DeepCopy(),
	}
	if pod.Labels == nil {
		pod.Labels = map[string]string{}
	}
	pod.Labels[appsv1.StatefulSetPodNameLabel] = pod.Name
	pod.Labels[appsv1.PodIndexLabel] = strconv.Itoa(ordinal)
	pod.Spec.Hostname = pod.Name
	pod.Spec.Subdomain = set.Spec.ServiceName
	setStorage(set, pod, ordinal)
	return pod
}

// newVersionedPod is the pod for ordinal at the revision it should have:
// below the partition the current revision, else the update revision
// (keeping upstream's operator precedence: a RollingUpdate strategy without
// rollingUpdate parameters compares with status.currentReplicas instead).
func newVersionedPod(currentSet, updateSet *appsv1.StatefulSet, currentRevision, updateRevision string, ordinal int) *corev1.Pod {
	us := currentSet.Spec.UpdateStrategy
	start := startOrdinal(currentSet)
	atCurrent := (us.Type == appsv1.RollingUpdateStatefulSetStrategyType && us.RollingUpdate == nil &&
		ordinal < start+int(currentSet.Status.CurrentReplicas)) ||
		(us.RollingUpdate != nil && ordinal < start+int(partitionOf(currentSet)))
	if atCurrent {
		pod := newPod(currentSet, ordinal)
		pod.Labels[appsv1.ControllerRevisionHashLabelKey] = currentRevision
		return pod
	}
	pod := newPod(updateSet, ordinal)
	pod.Labels[appsv1.ControllerRevisionHashLabelKey] = updateRevision
	return pod
}

func partitionOf(set *appsv1.StatefulSet) int32 {
	if ru := set.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.Partition != nil {
		return *ru.Partition
	}
	return 0
}

func podRevision(pod *corev1.Pod) string { return pod.Labels[appsv1.ControllerRevisionHashLabelKey] }

// claimsFor are the claims the pod with ordinal mounts: each template with
// the ordinal's name, the set's namespace and the selector's match labels
// added to its labels.
func claimsFor(set *appsv1.StatefulSet, ordinal int) []*corev1.PersistentVolumeClaim {
	out := make([]*corev1.PersistentVolumeClaim, 0, len(set.Spec.VolumeClaimTemplates))
	seen := map[string]bool{}
	for i := range set.Spec.VolumeClaimTemplates {
		t := &set.Spec.VolumeClaimTemplates[i]
		if seen[t.Name] {
			continue
		}
		seen[t.Name] = true
		claim := t.DeepCopy()
		claim.Name = claimName(set, t.Name, ordinal)
		claim.Namespace = set.Namespace
		var match map[string]string
		if set.Spec.Selector != nil {
			match = set.Spec.Selector.MatchLabels
		}
		if claim.Labels == nil {
			claim.Labels = maps.Clone(match)
		} else {
			for k, v := range match {
				claim.Labels[k] = v
			}
		}
		claim.ResourceVersion, claim.UID = "", ""
		out = append(out, claim)
	}
	return out
}

// --- pod states, as upstream's helpers ---

// isCreated: the API server has the pod (a pod built here has no phase).
func isCreated(p *corev1.Pod) bool     { return p.Status.Phase != "" }
func isPending(p *corev1.Pod) bool     { return p.Status.Phase == corev1.PodPending }
func isTerminating(p *corev1.Pod) bool { return p.DeletionTimestamp != nil }
func isRunningAndReady(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodRunning && kube.IsPodReady(p)
}

func isUnavailable(p *corev1.Pod, minReadySeconds int32, now time.Time) bool {
	return !kube.IsPodAvailable(p, minReadySeconds, now) || isTerminating(p)
}
