package cluster

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
)

// PodGC is the pod garbage collector. It force-deletes (grace 0):
//   - pods bound to a node that no longer exists, once the node has been
//     missing for Quarantine (40 s) and a GET confirms it is gone; they are
//     first marked Failed with DisruptionTarget (reason DeletionByPodGC);
//   - terminating pods on a node that is not Ready and carries the
//     node.kubernetes.io/out-of-service taint;
//   - the oldest terminated (Succeeded/Failed) pods beyond TerminatedPodThreshold.
//
// Upstream scans everything every 20 s; this one reacts to node and pod
// events (and one timer per missing node), so it acts up to 20 s earlier
// than upstream would and costs nothing while nothing changes.
type PodGC struct {
	c *Cluster
	nodesAndPods

	quarantined map[string]bool // missing nodes with a pending check
	gone        map[string]bool // nodes confirmed deleted
	deleting    map[string]types.UID
	terminal    map[string]*corev1.Pod
}

func newPodGC(c *Cluster) *PodGC {
	g := &PodGC{c: c, quarantined: map[string]bool{}, gone: map[string]bool{},
		deleting: map[string]types.UID{}, terminal: map[string]*corev1.Pod{}}
	g.nodesAndPods = newNodesAndPods(c, ClientPodGC, g.onNode, g.onPod, g.resync)
	return g
}

func (g *PodGC) synced() bool { return g.nodes.HasSynced() && g.pods.HasSynced() }

// resync checks every pod once both caches are filled.
func (g *PodGC) resync() {
	if !g.synced() {
		return
	}
	type keyed struct {
		key string
		pod *corev1.Pod
	}
	var pods []keyed
	for _, obj := range g.pods.List("", nil) {
		pods = append(pods, keyed{podKey(obj), obj.(*corev1.Pod)})
	}
	sort.Slice(pods, func(i, j int) bool { return pods[i].key < pods[j].key })
	for _, p := range pods {
		g.check(p.pod)
	}
	g.gcTerminated()
}

func (g *PodGC) node(name string) *corev1.Node {
	n, _ := g.nodes.GetByKey(name).(*corev1.Node)
	return n
}

func (g *PodGC) onNode(typ watch.EventType, _ string, obj, _ apiserver.Object) {
	node := obj.(*corev1.Node)
	if typ == watch.Deleted {
		if g.synced() && g.podIdx.count(node.Name) > 0 {
			g.quarantine(node.Name)
		}
		return
	}
	delete(g.gone, node.Name)
	if g.synced() && outOfService(node) {
		for _, pod := range g.podIdx.on(node.Name) {
			g.check(pod)
		}
	}
}

func outOfService(node *corev1.Node) bool {
	return nodeReadyStatus(node) != corev1.ConditionTrue && hasTaintKey(node.Spec.Taints, TaintOutOfService)
}

func (g *PodGC) onPod(typ watch.EventType, key string, obj, old apiserver.Object) {
	pod := obj.(*corev1.Pod)
	oldPod := asPod(old)
	if typ == watch.Deleted {
		g.podIdx.set(key, nil, oldPod)
		delete(g.terminal, key)
		delete(g.deleting, key)
		return
	}
	g.podIdx.set(key, pod, oldPod)
	if uid, ok := g.deleting[key]; ok && uid != pod.UID {
		delete(g.deleting, key)
	}
	wasTerminal := g.terminal[key] != nil
	if isTerminal(pod) {
		g.terminal[key] = pod
	} else {
		delete(g.terminal, key)
	}
	if !g.synced() {
		return
	}
	g.check(pod)
	if !wasTerminal && isTerminal(pod) {
		g.gcTerminated()
	}
}

// check force-deletes the pod if its node is gone or out of service.
func (g *PodGC) check(pod *corev1.Pod) {
	name := pod.Spec.NodeName
	if name == "" {
		return
	}
	node := g.node(name)
	switch {
	case node == nil && g.gone[name]:
		g.forceDelete(pod, &corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue,
			Reason: "DeletionByPodGC", Message: "PodGC: node no longer exists"})
	case node == nil:
		g.quarantine(name)
	case pod.DeletionTimestamp != nil && outOfService(node):
		g.forceDelete(pod, nil)
	}
}

// quarantine checks after Quarantine whether the node is really gone.
func (g *PodGC) quarantine(name string) {
	if g.quarantined[name] || g.gone[name] {
		return
	}
	g.quarantined[name] = true
	g.c.World.After(g.c.Config.PodGC.Quarantine, func() {
		delete(g.quarantined, name)
		if g.node(name) != nil || g.podIdx.count(name) == 0 {
			return
		}
		g.c.API.Do(&apiserver.Request{Client: ClientPodGC, Verb: apiserver.Get, Kind: apiserver.Nodes, Name: name}, func(resp *apiserver.Response) {
			if resp.Err == nil || g.node(name) != nil {
				return
			}
			if !errGone(resp.Err) {
				g.quarantine(name)
				return
			}
			g.gone[name] = true
			for _, pod := range g.podIdx.on(name) {
				g.check(pod)
			}
		})
	})
}

// forceDelete marks the pod Failed (with the condition, if any) unless it is
// already terminal, then deletes it with grace 0.
func (g *PodGC) forceDelete(pod *corev1.Pod, cond *corev1.PodCondition) {
	key := podKey(pod)
	if uid, ok := g.deleting[key]; ok && uid == pod.UID {
		return
	}
	g.deleting[key] = pod.UID
	del := func() {
		g.c.API.Do(&apiserver.Request{Client: ClientPodGC, Verb: apiserver.Delete, Kind: apiserver.Pods, Namespace: pod.Namespace, Name: pod.Name,
			Delete: &metav1.DeleteOptions{GracePeriodSeconds: ptrTo(int64(0))}}, func(resp *apiserver.Response) {
			if resp.Err != nil && !errGone(resp.Err) && g.deleting[key] == pod.UID {
				delete(g.deleting, key) // try again on the next event
			}
		})
	}
	if isTerminal(pod) {
		del()
		return
	}
	now := apiserver.Timestamp(g.c.World)
	patch := map[string]any{"metadata": map[string]any{"uid": pod.UID}, "status": map[string]any{"phase": corev1.PodFailed}}
	if cond != nil {
		c := *cond
		c.LastTransitionTime = now
		patch["status"].(map[string]any)["conditions"] = []corev1.PodCondition{c}
	}
	body, err := json.Marshal(patch)
	if err != nil {
		panic(fmt.Sprintf("podgc: %v", err))
	}
	g.c.API.Do(&apiserver.Request{Client: ClientPodGC, Verb: apiserver.Patch, Kind: apiserver.Pods, Subresource: "status",
		Namespace: pod.Namespace, Name: pod.Name, PatchType: types.StrategicMergePatchType, Patch: body}, func(resp *apiserver.Response) {
		switch {
		case resp.Err == nil:
			del()
		case errGone(resp.Err) || isConflict(resp.Err):
		default:
			if g.deleting[key] == pod.UID {
				delete(g.deleting, key)
			}
		}
	})
}

// gcTerminated deletes the oldest terminated pods beyond the threshold.
func (g *PodGC) gcTerminated() {
	excess := len(g.terminal) - g.c.Config.PodGC.TerminatedPodThreshold
	if excess <= 0 {
		return
	}
	list := make([]*corev1.Pod, 0, len(g.terminal))
	for _, p := range g.terminal {
		list = append(list, p)
	}
	sort.Slice(list, func(i, j int) bool {
		a, b := list[i].CreationTimestamp, list[j].CreationTimestamp
		if !a.Equal(&b) {
			return a.Before(&b)
		}
		return podKey(list[i]) < podKey(list[j])
	})
	for _, p := range list {
		if excess == 0 {
			break
		}
		if _, busy := g.deleting[podKey(p)]; busy {
			excess--
			continue
		}
		g.forceDelete(p, nil)
		excess--
	}
}
