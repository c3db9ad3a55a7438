package check

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
)

// StatefulSets is the desired state of every StatefulSet that is not being
// deleted. With n = spec.replicas (default 1) and s = spec.ordinals.start
// (default 0):
//
//   - status.observedGeneration == metadata.generation;
//   - pods <name>-s … <name>-(s+n−1) exist, are controlled by it (controller
//     ownerReference of kind StatefulSet, by uid), are not terminating,
//     Running and Ready;
//   - no other active pod it controls (an ordinal out of that range, or a
//     name that is not <name>-<ordinal>);
//   - for every volumeClaimTemplate t and every ordinal i of the range, the
//     PersistentVolumeClaim <t>-<name>-<i> exists and is not being deleted;
//   - status.replicas == status.readyReplicas == n;
//   - updateStrategy RollingUpdate (the default) and status.updateRevision
//     set: every pod of the range from the partition on (index i − s >=
//     partition, default 0) carries controller-revision-hash ==
//     status.updateRevision.
//
// Each StatefulSet's verdict is recomputed only after a change to it, to a
// pod it controls or to a claim in its namespace.
func StatefulSets() Predicate {
	return &statefulSetPred{sets: map[types.UID]*appsv1.StatefulSet{}, pods: newPodIndex(),
		claims: map[string]*corev1.PersistentVolumeClaim{}, verdicts: newVerdictCache()}
}

type statefulSetPred struct {
	sets     map[types.UID]*appsv1.StatefulSet
	pods     *podIndex // pods with a StatefulSet controller reference
	claims   map[string]*corev1.PersistentVolumeClaim
	verdicts *verdictCache
}

func (p *statefulSetPred) Observe(ev apiserver.Event) {
	switch obj := ev.Object.(type) {
	case *appsv1.StatefulSet:
		observeOwner(p.sets, p.verdicts, ev, obj)
	case *corev1.Pod:
		p.pods.observe(ev, obj, apiserver.StatefulSets, p.verdicts)
	case *corev1.PersistentVolumeClaim:
		if ev.Type == watch.Deleted {
			delete(p.claims, ev.Key)
		} else {
			p.claims[ev.Key] = obj
		}
		p.verdicts.touchNamespace(obj.Namespace)
	}
}

// podIndex holds the pods whose controller reference is of one kind, by
// that reference's uid, by pod key (whether the owner is known or not: it
// costs only the pods of that kind, and does not depend on the order in
// which owners and pods are seen).
type podIndex struct {
	byOwner map[types.UID]map[string]*corev1.Pod
	owner   map[string]types.UID // pod key → the uid it is indexed under
}

func newPodIndex() *podIndex {
	return &podIndex{byOwner: map[types.UID]map[string]*corev1.Pod{}, owner: map[string]types.UID{}}
}

func (x *podIndex) observe(ev apiserver.Event, pod *corev1.Pod, kind apiserver.Kind, verdicts *verdictCache) {
	key := podKey(pod)
	if uid, ok := x.owner[key]; ok {
		delete(x.byOwner[uid], key)
		if len(x.byOwner[uid]) == 0 {
			delete(x.byOwner, uid)
		}
		delete(x.owner, key)
		verdicts.touch(uid)
	}
	if ev.Type == watch.Deleted {
		return
	}
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil || ref.Kind != string(kind) {
		return
	}
	m := x.byOwner[ref.UID]
	if m == nil {
		m = map[string]*corev1.Pod{}
		x.byOwner[ref.UID] = m
	}
	m[key] = pod
	x.owner[key] = ref.UID
	verdicts.touch(ref.UID)
}

func (p *statefulSetPred) Holds() (bool, string) { return p.verdicts.holds(p.eval) }

// ordinalOf parses <parent>-<ordinal> (upstream's getParentNameAndOrdinal
// for one parent): -1 when the name is not of that form.
func ordinalOf(parent, name string) int {
	if !strings.HasPrefix(name, parent+"-") {
		return -1
	}
	return parseOrdinal(name[len(parent)+1:])
}

// parseOrdinal is a non-negative decimal integer, or -1.
func parseOrdinal(s string) int {
	if s == "" || len(s) > 9 {
		return -1
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return -1
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}

func (p *statefulSetPred) eval(uid types.UID) (bool, string) {
	s := p.sets[uid]
	name := "StatefulSet " + s.Namespace + "/" + s.Name
	if s.Status.ObservedGeneration != s.Generation {
		return false, fmt.Sprintf("%s observedGeneration %d is behind generation %d", name, s.Status.ObservedGeneration, s.Generation)
	}
	n := int(deref(s.Spec.Replicas))
	start := 0
	if s.Spec.Ordinals != nil {
		start = int(s.Spec.Ordinals.Start)
	}
	pods := p.pods.byOwner[uid]
	prefix := s.Namespace + "/"
	for i := start; i < start+n; i++ {
		podName := s.Name + "-" + strconv.Itoa(i)
		pod := pods[prefix+podName]
		switch {
		case pod == nil:
			return false, fmt.Sprintf("%s has no pod %s", name, podName)
		case pod.DeletionTimestamp != nil:
			return false, fmt.Sprintf("%s: its pod %s is terminating", name, podName)
		case pod.Status.Phase != corev1.PodRunning:
			return false, fmt.Sprintf("%s: its pod %s is %s, wants Running", name, podName, pod.Status.Phase)
		case !podReady(pod):
			return false, fmt.Sprintf("%s: its pod %s is not Ready", name, podName)
		}
	}
	if len(pods) > n {
		var extra []string
		for _, pod := range pods {
			if ord := ordinalOf(s.Name, pod.Name); pod.Namespace == s.Namespace && active(pod) && (ord < start || ord >= start+n) {
				extra = append(extra, pod.Name)
			}
		}
		if len(extra) > 0 {
			sort.Strings(extra)
			return false, fmt.Sprintf("%s still has pod %s beyond its ordinals %d..%d", name, extra[0], start, start+n-1)
		}
	}
	for _, t := range s.Spec.VolumeClaimTemplates {
		for i := start; i < start+n; i++ {
			claim := t.Name + "-" + s.Name + "-" + strconv.Itoa(i)
			switch c := p.claims[s.Namespace+"/"+claim]; {
			case c == nil:
				return false, fmt.Sprintf("%s has no PersistentVolumeClaim %s", name, claim)
			case c.DeletionTimestamp != nil:
				return false, fmt.Sprintf("%s: its PersistentVolumeClaim %s is being deleted", name, claim)
			}
		}
	}
	switch {
	case s.Status.Replicas != int32(n):
		return false, fmt.Sprintf("%s status.replicas is %d, wants %d", name, s.Status.Replicas, n)
	case s.Status.ReadyReplicas != int32(n):
		return false, fmt.Sprintf("%s status.readyReplicas is %d, wants %d", name, s.Status.ReadyReplicas, n)
	}
	us := s.Spec.UpdateStrategy
	if (us.Type == "" || us.Type == appsv1.RollingUpdateStatefulSetStrategyType) && s.Status.UpdateRevision != "" {
		partition := 0
		if us.RollingUpdate != nil && us.RollingUpdate.Partition != nil {
			partition = max(0, int(*us.RollingUpdate.Partition))
		}
		for i := start + partition; i < start+n; i++ {
			pod := pods[prefix+s.Name+"-"+strconv.Itoa(i)]
			if rev := pod.Labels[appsv1.ControllerRevisionHashLabelKey]; rev != s.Status.UpdateRevision {
				return false, fmt.Sprintf("%s: its pod %s is at revision %q, wants %q", name, pod.Name, rev, s.Status.UpdateRevision)
			}
		}
	}
	return true, ""
}
