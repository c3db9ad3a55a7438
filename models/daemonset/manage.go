package daemonset

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/controller"
	"github.com/ctrlsim/ctrlsim/harness/kube"
	"github.com/ctrlsim/ctrlsim/harness/trace"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// manage creates the missing daemon pods and deletes the ones that should
// not be: node by node (podsShouldBeOnNode), plus unbound pods meant for
// nodes that no longer exist (the pod garbage collector only removes bound
// ones).
func (c *Controller) manage(ds *appsv1.DaemonSet, nodes []*corev1.Node, hash string) error {
	byNode, err := c.nodesToDaemonPods(ds, false)
	if err != nil {
		return fmt.Errorf("couldn't get node to daemon pod mapping for daemon set %q: %v", ds.Name, err)
	}
	elig := kube.NewDaemonEligibility(&ds.Spec.Template.Spec)
	var create, del []string
	for _, node := range nodes {
		cr, dl := c.podsShouldBeOnNode(node, byNode, ds, elig, hash)
		create = append(create, cr...)
		del = append(del, dl...)
	}
	del = append(del, unboundPodsWithoutNode(nodes, byNode)...)
	return c.syncNodes(ds, del, create, hash)
}

// podsShouldBeOnNode decides one node: whether it needs a daemon pod, and
// which of its daemon pods to delete.
func (c *Controller) podsShouldBeOnNode(node *corev1.Node, byNode map[string][]*corev1.Pod, ds *appsv1.DaemonSet, elig *kube.DaemonEligibility, hash string) (create, del []string) {
	run, keep := elig.ShouldRun(node)
	pods, exists := byNode[node.Name]
	switch {
	case run && !exists:
		return []string{node.Name}, nil
	case keep:
		var running []*corev1.Pod
		for _, p := range pods {
			switch {
			case p.DeletionTimestamp != nil:
			case p.Status.Phase == corev1.PodFailed:
				// The kubelet may keep failing pods here (rejecting them):
				// delete them with a back-off per node and generation.
				key := fmt.Sprintf("%s/%d/%s", ds.UID, ds.Status.ObservedGeneration, node.Name)
				now := c.ctx.Now()
				if c.failed.inBackoff(key, now) {
					c.queue.AddAfter(controller.KeyFunc(ds), c.failed.get(key))
					continue
				}
				c.failed.gc(now)
				c.failed.next(key, now)
				del = append(del, p.Name)
			case p.Status.Phase == corev1.PodSucceeded:
				del = append(del, p.Name)
			default:
				running = append(running, p)
			}
		}
		if !allowsSurge(ds) {
			if len(running) > 1 {
				c.sortForKeeping(running)
				for _, p := range running[1:] {
					del = append(del, p.Name)
				}
				c.traceDuplicates(ds, running, running[1:])
			}
			return nil, del
		}
		if len(running) <= 1 {
			if len(running) == 0 && run {
				create = append(create, node.Name) // surging: keep one pod that is not being deleted
			}
			return create, del
		}
		// Surging allows two pods, the oldest of the current revision and the
		// oldest of an older one, while the new one is not yet available and
		// the old one still ready; every other pod goes.
		sortOldestFirst(running)
		var newest, oldest *corev1.Pod // the oldest new pod, the oldest old pod
		var extra []*corev1.Pod
		for _, p := range running {
			if p.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] == hash {
				if newest == nil {
					newest = p
					continue
				}
			} else if oldest == nil {
				oldest = p
				continue
			}
			extra = append(extra, p)
			del = append(del, p.Name)
		}
		if newest != nil && oldest != nil {
			if !kube.IsPodReady(oldest) || kube.IsPodAvailable(newest, ds.Spec.MinReadySeconds, c.ctx.Now()) {
				extra = append(extra, oldest)
				del = append(del, oldest.Name)
			}
		}
		if len(extra) > 0 {
			c.traceDuplicates(ds, running, extra)
		}
		return create, del
	case !keep && exists:
		for _, p := range pods {
			if p.DeletionTimestamp == nil {
				del = append(del, p.Name)
			}
		}
	}
	return nil, del
}

// sortForKeeping puts the pod to keep first.
func (c *Controller) sortForKeeping(pods []*corev1.Pod) {
	sortByAge(pods, c.opts.Duplicates == KeepNewest)
}

// sortOldestFirst is upstream's podByCreationTimestampAndPhase: bound pods
// first, then by creation time, then by name.
func sortOldestFirst(pods []*corev1.Pod) { sortByAge(pods, false) }

// sortByAge puts bound pods first, then orders by creation time and name:
// upstream's order, or, newest first, the keep-newest variant's (upstream's
// reversed but for bound pods first; creation times have whole seconds, so
// ties are common).
func sortByAge(pods []*corev1.Pod, newestFirst bool) {
	sort.SliceStable(pods, func(i, j int) bool {
		a, b := pods[i], pods[j]
		if (a.Spec.NodeName != "") != (b.Spec.NodeName != "") {
			return a.Spec.NodeName != ""
		}
		if newestFirst {
			a, b = b, a
		}
		if a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.Name < b.Name
		}
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	})
}

// traceDuplicates records the choice among the pods of one node.
func (c *Controller) traceDuplicates(ds *appsv1.DaemonSet, candidates, chosen []*corev1.Pod) {
	if c.opts.Trace == nil {
		return
	}
	now := c.ctx.Now()
	cands := make([]trace.Candidate, len(candidates))
	for i, p := range candidates {
		cands[i] = candidate(p, len(candidates))
	}
	names := make([]string, len(chosen))
	for i, p := range chosen {
		names[i] = p.Name
	}
	c.opts.Trace.Record(trace.Decision{
		Time: c.ctx.World().Now().Format(time.RFC3339Nano), Controller: c.opts.Name,
		Owner:              "DaemonSet/" + ds.Namespace + "/" + ds.Name,
		OwnerHasController: metav1.GetControllerOfNoCopy(ds) != nil,
		Now:                now.Format(time.RFC3339Nano), Diff: len(chosen), Candidates: cands, Chosen: names,
	})
}

func candidate(p *corev1.Pod, rank int) trace.Candidate {
	restarts := 0
	for _, s := range p.Status.ContainerStatuses {
		restarts = max(restarts, int(s.RestartCount))
	}
	cost := 0
	if v, ok := p.Annotations["controller.kubernetes.io/pod-deletion-cost"]; ok {
		if n, err := strconv.ParseInt(v, 10, 32); err == nil {
			cost = int(n)
		}
	}
	cd := trace.Candidate{Name: p.Name, UID: string(p.UID), Node: p.Spec.NodeName, Phase: string(p.Status.Phase), Ready: kube.IsPodReady(p),
		Created: p.CreationTimestamp.Time.Format(time.RFC3339Nano), Restarts: restarts, DeletionCost: cost, Rank: rank}
	if cd.Ready {
		s := kube.PodReadySince(p).Format(time.RFC3339Nano)
		cd.ReadySince = &s
	}
	return cd
}

// unboundPodsWithoutNode are the unbound pods meant for a node not in nodes,
// in node then pod order.
func unboundPodsWithoutNode(nodes []*corev1.Node, byNode map[string][]*corev1.Pod) []string {
	exists := make(map[string]bool, len(nodes))
	for _, n := range nodes {
		exists[n.Name] = true
	}
	var out []string
	for _, node := range slices.Sorted(maps.Keys(byNode)) {
		if exists[node] {
			continue
		}
		for _, p := range byNode[node] {
			if p.Spec.NodeName == "" {
				out = append(out, p.Name)
			}
		}
	}
	return out
}

// allowsSurge: a RollingUpdate with a maxSurge above 0 (of one node).
func allowsSurge(ds *appsv1.DaemonSet) bool {
	n, err := surgeCount(ds, 1)
	return err == nil && n > 0
}

// syncNodes creates pods for the nodes in create and deletes the pods named
// in del, at most BurstReplicas of each, with expectations set first.
// Creations go in slow-start batches of 1, 2, 4, …; after a batch with a
// failure the rest are not tried (and no longer expected). Deletions all go
// at once.
func (c *Controller) syncNodes(ds *appsv1.DaemonSet, del, create []string, hash string) error {
	key := controller.KeyFunc(ds)
	nCreate := min(len(create), c.opts.BurstReplicas)
	nDelete := min(len(del), c.opts.BurstReplicas)
	c.expectations.SetExpectations(key, nCreate, nDelete)

	template := daemonPodTemplate(&ds.Spec.Template, templateGeneration(ds), hash)
	initial := 1
	if c.opts.NoSlowStart {
		initial = nCreate
	}
	created, errs := c.ctx.SlowStartBatch(nCreate, initial, func(i int) error {
		err := c.createPod(ds, template, create[i])
		if err != nil {
			c.expectations.CreationObserved(key)
		}
		return err
	})
	if skipped := nCreate - created - len(errs); skipped > 0 {
		c.expectations.LowerExpectations(key, skipped, 0) // never tried
	}
	c.ctx.Parallel(nDelete, func(i int) {
		err := c.ctx.Client().Delete(apiserver.Pods, ds.Namespace, del[i], nil)
		if err == nil {
			return
		}
		c.expectations.DeletionObserved(key)
		if !apierrors.IsNotFound(err) {
			errs = append(errs, err)
		}
	})
	if len(errs) == 0 {
		return nil
	}
	return errors.Join(errs...)
}

// daemonPodTemplate is CreatePodTemplate: the template with the daemon pod
// tolerations, the pod-template-generation label (if the DaemonSet carries
// the deprecated template-generation annotation) and the
// controller-revision-hash label.
func daemonPodTemplate(t *corev1.PodTemplateSpec, generation *int64, hash string) *corev1.PodTemplateSpec {
	out := t.DeepCopy()
	kube.AddDaemonPodTolerations(&out.Spec)
	if out.Labels == nil {
		out.Labels = map[string]string{}
	}
	if generation != nil {
		out.Labels["pod-template-generation"] = strconv.FormatInt(*generation, 10)
	}
	if hash != "" {
		out.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] = hash
	}
	return out
}

// createPod creates one daemon pod for node: pinned by required node
// affinity (or, with BindByNodeName, bound by spec.nodeName).
func (c *Controller) createPod(ds *appsv1.DaemonSet, template *corev1.PodTemplateSpec, node string) error {
	pod, err := controller.PodFromTemplate(template, ds, controllerRef(ds))
	if err != nil {
		return err
	}
	if c.opts.BindByNodeName {
		pod.Spec.NodeName = node
	} else {
		pod.Spec.Affinity = pinToNode(pod.Spec.Affinity, node)
	}
	created, err := c.ctx.Client().Create(pod)
	if err == nil {
		c.podWritten(created.(*corev1.Pod))
	}
	return err
}
