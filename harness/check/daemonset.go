package check

import (
	"fmt"
	"sort"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/kube"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
)

// DaemonSets is the desired state of every DaemonSet that is not being
// deleted. A node qualifies for a DaemonSet (upstream's
// NodeShouldRunDaemonPod) when it is not being deleted, the template's
// nodeName (if any) names it, its labels match the template's nodeSelector
// and required node affinity, and the template's tolerations — with those
// upstream adds to every DaemonSet pod: not-ready and unreachable
// (NoExecute), disk-pressure, memory-pressure, pid-pressure and
// unschedulable (NoSchedule), and network-unavailable (NoSchedule) for
// hostNetwork pods only — tolerate all of its NoSchedule and NoExecute
// taints. A node that fails only on NoSchedule taints while every NoExecute
// one is tolerated may keep a pod already there (upstream neither places
// nor removes one).
//
// It holds when status.observedGeneration == metadata.generation; every
// qualifying node has exactly one active pod the DaemonSet controls
// (controller ownerReference of kind DaemonSet, by uid; in its namespace)
// bound to it (spec.nodeName or, while that is empty, the required
// node-affinity term on metadata.name the controller sets); no active pod
// it controls is on a node that does not qualify (and may not keep it), on
// a node that does not exist, or on no node at all;
// status.desiredNumberScheduled and status.numberReady equal the number of
// qualifying nodes.
//
// Each DaemonSet's verdict is recomputed only after a change to it, to a
// pod it controls or to a node.
func DaemonSets() Predicate {
	return &daemonSetPred{sets: map[types.UID]*appsv1.DaemonSet{}, pods: newPodIndex(),
		nodes: map[string]*corev1.Node{}, verdicts: newVerdictCache()}
}

type daemonSetPred struct {
	sets      map[types.UID]*appsv1.DaemonSet
	pods      *podIndex // pods with a DaemonSet controller reference
	nodes     map[string]*corev1.Node
	nodeNames []string // sorted; nil when it needs rebuilding
	verdicts  *verdictCache
}

func (p *daemonSetPred) Observe(ev apiserver.Event) {
	switch obj := ev.Object.(type) {
	case *appsv1.DaemonSet:
		observeOwner(p.sets, p.verdicts, ev, obj)
	case *corev1.Pod:
		p.pods.observe(ev, obj, apiserver.DaemonSets, p.verdicts)
	case *corev1.Node:
		if _, known := p.nodes[obj.Name]; !known || ev.Type == watch.Deleted {
			p.nodeNames = nil
		}
		if ev.Type == watch.Deleted {
			delete(p.nodes, obj.Name)
		} else {
			p.nodes[obj.Name] = obj
		}
		p.verdicts.touchAll()
	}
}

func (p *daemonSetPred) Holds() (bool, string) { return p.verdicts.holds(p.eval) }

func (p *daemonSetPred) sortedNodes() []string {
	if p.nodeNames == nil {
		p.nodeNames = make([]string, 0, len(p.nodes))
		for name := range p.nodes {
			p.nodeNames = append(p.nodeNames, name)
		}
		sort.Strings(p.nodeNames)
	}
	return p.nodeNames
}

func (p *daemonSetPred) eval(uid types.UID) (bool, string) {
	ds := p.sets[uid]
	name := "DaemonSet " + ds.Namespace + "/" + ds.Name
	if ds.Status.ObservedGeneration != ds.Generation {
		return false, fmt.Sprintf("%s observedGeneration %d is behind generation %d", name, ds.Status.ObservedGeneration, ds.Generation)
	}
	onNode := map[string]int{}
	var unbound []string
	for key, pod := range p.pods.byOwner[uid] {
		if !active(pod) || pod.Namespace != ds.Namespace {
			continue
		}
		if node, ok := kube.DaemonPodTargetNode(pod); ok {
			onNode[node]++
		} else {
			unbound = append(unbound, key)
		}
	}
	if len(unbound) > 0 {
		sort.Strings(unbound)
		return false, fmt.Sprintf("%s: its pod %s is bound to no node", name, unbound[0])
	}
	eligible := kube.NewDaemonEligibility(&ds.Spec.Template.Spec)
	desired := int32(0)
	for _, nodeName := range p.sortedNodes() {
		node := p.nodes[nodeName]
		run, keep := eligible.ShouldRun(node)
		if node.DeletionTimestamp != nil {
			run, keep = false, false // a node being deleted is left alone
		}
		n := onNode[nodeName]
		switch {
		case run && n != 1:
			return false, fmt.Sprintf("%s has %d pods on node %s, wants 1", name, n, nodeName)
		case !run && !keep && n > 0:
			return false, fmt.Sprintf("%s has %d pods on node %s, which does not qualify for it", name, n, nodeName)
		}
		if run {
			desired++
		}
	}
	if len(onNode) > 0 {
		var missing []string
		for node := range onNode {
			if p.nodes[node] == nil {
				missing = append(missing, node)
			}
		}
		if len(missing) > 0 {
			sort.Strings(missing)
			return false, fmt.Sprintf("%s has %d pods on node %s, which does not exist", name, onNode[missing[0]], missing[0])
		}
	}
	switch {
	case ds.Status.DesiredNumberScheduled != desired:
		return false, fmt.Sprintf("%s status.desiredNumberScheduled is %d, wants %d", name, ds.Status.DesiredNumberScheduled, desired)
	case ds.Status.NumberReady != desired:
		return false, fmt.Sprintf("%s status.numberReady is %d, wants %d", name, ds.Status.NumberReady, desired)
	}
	return true, ""
}
