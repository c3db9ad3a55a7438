package cluster

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/controller"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
)

// Kubelet runs the pods bound to one node: it watches them (field selector
// spec.nodeName=<node>), pulls images, starts containers, reports status
// through the status subresource, restarts crashed containers with
// CrashLoopBackOff, and finishes graceful deletions with the final delete
// (grace 0, uid precondition).
//
// Per pod it works like upstream's pod worker: containers are started one
// after another, each an image pull (unless the image is already on the node
// and the pull policy allows) and a container start; a failed pull leaves the
// container waiting with ErrImagePull and the next sync SyncRetry later finds
// it in ImagePullBackOff until the back-off (10 s doubling to 300 s) expires.
// Init containers, probes and in-place updates are not modelled: Initialized
// is True from the first sync and readiness is a delay after start.
type Kubelet struct {
	c      *Cluster
	Node   string
	client string
	spec   NodeSpec
	seq    int // join order: addresses
	ip     string
	cfg    *KubeletConfig
	rand   *rand.Rand

	ctx        *controller.Context
	pods       *controller.Informer
	states     map[types.UID]*podState
	byKey      map[string]*podState
	images     map[string]bool // images present on the node
	unpullable map[string]bool
	podSeq     int

	started time.Duration // for the status manager's batch ticks

	scratch corev1.PodStatus // buildStatus builds here (most builds only compare)

	lost    bool   // LoseNode: does nothing until ReturnNode
	removed bool   // DeleteNode: gone for good
	epoch   uint64 // bumped by stop and resume: older timers are void
}

type podState struct {
	uid  types.UID
	key  string
	pod  *corev1.Pod // the latest version seen (watch, GET or own write)
	ctrs []*container

	ip        string
	startTime metav1.Time

	admitted    bool
	probeFails  bool // its readiness probe fails (a fault): no container is ready
	inert       bool // terminal before we ever ran it: nothing to do
	terminating bool
	finished    bool // containers stopped after deletion: final status, then delete
	deleteSent  bool
	gone        bool

	gen   uint64 // bumped to void the pod's pending timers
	epoch uint64 // kubelet epoch the pod's work was last started in

	busy, again bool // a sync pass is running / another was asked for

	syncPending bool
	syncAt      time.Duration
	syncTok     uint64

	writing  bool // a status write (or its GET) is in flight
	writeTok uint64

	reconcilePending bool // a status sync at the next batch tick
}

type ctrState int

const (
	ctrWaiting ctrState = iota
	ctrRunning
	ctrExited
)

type container struct {
	name, image string
	policy      corev1.PullPolicy

	state           ctrState
	reason, message string // waiting
	startedAt       metav1.Time
	ready           bool
	readyDue        bool // its readiness delay since the start has passed
	started         bool // has ever run
	restarts        int32
	id, imageID     string

	lastTerm, prevTerm *corev1.ContainerStateTerminated
	exitedAt           time.Duration

	gen     uint64 // voids this container's readiness timer
	crash   backoff
	pull    backoff
	pullErr string
}

// backoff is one entry of client-go's flowcontrol.Backoff, as the kubelet uses
// it for crash loops and image pulls.
type backoff struct {
	has     bool
	d       time.Duration
	updated time.Duration
}

// next records a failure at event (now is when it is recorded): the first
// failure, or one after Reset of quiet, starts at Initial; later ones double.
func (b *backoff) next(event, now time.Duration, cfg BackOff) {
	if !b.has || event-b.updated > cfg.Reset {
		b.d = cfg.Initial
	} else {
		b.d = min(2*b.d, cfg.Max)
	}
	b.has, b.updated = true, now
}

// inBackOffSince: whether a retry at now, for a failure at event, must wait.
func (b *backoff) inBackOffSince(event, now time.Duration, cfg BackOff) bool {
	return b.has && event-b.updated <= cfg.Reset && now-event < b.d
}

func newKubelet(c *Cluster, spec NodeSpec, seq int) *Kubelet {
	k := &Kubelet{c: c, Node: spec.Name, client: KubeletClient(spec.Name), spec: spec, seq: seq, ip: nodeIP(seq),
		cfg: &c.Config.Kubelet, rand: c.World.Rand(KubeletClient(spec.Name)),
		states: map[types.UID]*podState{}, byKey: map[string]*podState{}, images: map[string]bool{}, unpullable: map[string]bool{}}
	for _, img := range k.cfg.UnpullableImages {
		k.unpullable[img] = true
	}
	k.ctx = controller.NewContext(k.client, c.API)
	k.pods = actorInformer(k.ctx, apiserver.Pods, k.onPod, k.resync)
	k.pods.SetFieldSelector(fields.OneTermEqualSelector("spec.nodeName", spec.Name))
	return k
}

func (k *Kubelet) now() time.Duration { return k.c.World.Elapsed() }

func (k *Kubelet) start() {
	k.started = k.now()
	k.pods.Start()
}

// stop is LoseNode: the kubelet goes silent.
func (k *Kubelet) stop() {
	k.lost = true
	k.epoch++
	k.pods.Stop()
}

// remove is DeleteNode: the machine is gone.
func (k *Kubelet) remove() {
	if !k.lost {
		k.stop()
	}
	k.removed = true
}

// resume is ReturnNode: post Ready, list the pods again, carry on.
func (k *Kubelet) resume() {
	k.lost = false
	k.epoch++
	k.postReady()
	k.pods.Start()
}

func (k *Kubelet) alive(e uint64) func() bool {
	return func() bool { return k.epoch == e && !k.lost }
}

// register creates the Node object (a joining node), then posts its status.
func (k *Kubelet) register() {
	e := k.epoch
	k.c.API.Do(&apiserver.Request{Client: k.client, Verb: apiserver.Create, Kind: apiserver.Nodes, Object: k.nodeObject(false)},
		func(resp *apiserver.Response) {
			if !k.alive(e)() {
				return
			}
			if resp.Err != nil && !apierrors.IsAlreadyExists(resp.Err) {
				k.c.World.After(retryDelay, func() {
					if k.alive(e)() {
						k.register()
					}
				})
				return
			}
			k.postReady()
		})
}

// postReady sets the node's conditions to healthy (Ready=True) if they are not.
func (k *Kubelet) postReady() {
	u := &rmw{api: k.c.API, client: k.client, kind: apiserver.Nodes, name: k.Node, sub: "status", alive: k.alive(k.epoch),
		mutate: func(obj apiserver.Object) bool {
			return setNodeConditionsReady(obj.(*corev1.Node), apiserver.Timestamp(k.c.World))
		}}
	u.run(nil)
}

// Pods lists the keys of the pods the kubelet is running or finishing, sorted.
func (k *Kubelet) Pods() []string { return slices.Sorted(maps.Keys(k.byKey)) }

// Lost reports whether the kubelet is stopped by LoseNode.
func (k *Kubelet) Lost() bool { return k.lost }

func (k *Kubelet) onPod(typ watch.EventType, key string, obj, _ apiserver.Object) {
	pod := obj.(*corev1.Pod)
	ps := k.states[pod.UID]
	if typ == watch.Deleted {
		if ps != nil {
			k.forget(ps)
		}
		return
	}
	if ps == nil {
		if prev := k.byKey[key]; prev != nil {
			k.forget(prev) // an older pod of the same name: it is gone
		}
		ps = &podState{uid: pod.UID, key: key, pod: pod}
		k.states[pod.UID] = ps
		k.byKey[key] = ps
		k.admit(ps)
		return
	}
	k.observe(ps, pod)
}

// observe takes a newer version of the pod into account. A status someone
// else changed is set right at the status manager's next batch tick, as
// upstream's syncBatch does.
func (k *Kubelet) observe(ps *podState, pod *corev1.Pod) {
	if k.accept(ps, pod) {
		k.reconcileLater(ps)
	}
}

// accept takes a newer version of the pod (from a response or the watch) and
// starts its termination once it has a deletionTimestamp. It reports whether
// the pod is newer and still to be run.
func (k *Kubelet) accept(ps *podState, pod *corev1.Pod) bool {
	if !newer(pod, ps.pod) {
		return false
	}
	ps.pod = pod
	if ps.inert {
		return false
	}
	if pod.DeletionTimestamp != nil && !ps.terminating {
		k.terminate(ps)
		return false
	}
	return true
}

// StatusSyncPeriod is the kubelet status manager's batch period: a pod status
// changed by someone else is put back at the next tick (multiples of it since
// the kubelet started).
const StatusSyncPeriod = 10 * time.Second

func (k *Kubelet) reconcileLater(ps *podState) {
	if ps.reconcilePending || ps.writing || !ps.admitted {
		return
	}
	if statusEqual(k.buildStatus(ps), &ps.pod.Status) {
		return
	}
	ps.reconcilePending = true
	now := k.now()
	next := k.started + ((now-k.started)/StatusSyncPeriod+1)*StatusSyncPeriod
	k.afterPod(ps, next-now, func() {
		ps.reconcilePending = false
		k.syncStatus(ps)
	})
}

func (k *Kubelet) forget(ps *podState) {
	ps.gone = true
	k.bump(ps)
	delete(k.states, ps.uid)
	if k.byKey[ps.key] == ps {
		delete(k.byKey, ps.key)
	}
}

// bump voids the pod's pending timers and its running sync pass.
func (k *Kubelet) bump(ps *podState) {
	ps.gen++
	ps.busy, ps.again, ps.syncPending, ps.reconcilePending = false, false, false, false
}

func (k *Kubelet) admit(ps *podState) {
	pod := ps.pod
	ps.admitted = true
	ps.epoch = k.epoch
	if isTerminal(pod) {
		ps.inert = true
		return
	}
	if pod.Status.StartTime != nil {
		ps.startTime = *pod.Status.StartTime
	} else {
		ps.startTime = apiserver.Timestamp(k.c.World)
	}
	if pod.Status.PodIP != "" {
		ps.ip = pod.Status.PodIP
	} else {
		k.podSeq++
		ps.ip = podIP(k.seq, k.podSeq)
	}
	for _, c := range pod.Spec.Containers {
		ps.ctrs = append(ps.ctrs, &container{name: c.Name, image: c.Image, policy: c.ImagePullPolicy,
			state: ctrWaiting, reason: "ContainerCreating"})
	}
	if pod.DeletionTimestamp != nil {
		k.terminate(ps)
		return
	}
	k.syncStatus(ps)
	k.startPass(ps)
}

// resync runs after every (re)list: pods whose work belongs to an older epoch
// (before a loss) are picked up where they were.
func (k *Kubelet) resync() {
	for _, key := range slices.Sorted(maps.Keys(k.byKey)) {
		ps := k.byKey[key]
		if ps.epoch == k.epoch || ps.inert {
			continue
		}
		ps.epoch = k.epoch
		ps.writing, ps.deleteSent = false, false
		ps.writeTok++ // a response still in flight from before is void
		k.bump(ps)
		switch {
		case ps.finished:
			k.syncStatus(ps)
		case ps.terminating:
			ps.terminating = false
			k.terminate(ps)
		default:
			for _, c := range ps.ctrs {
				if c.state == ctrRunning && !c.ready {
					k.scheduleReadiness(ps, c)
				}
			}
			k.syncStatus(ps)
			k.startPass(ps)
		}
	}
}

// afterPod runs fn after d unless the pod's work was voided meanwhile.
func (k *Kubelet) afterPod(ps *podState, d time.Duration, fn func()) {
	e, g := k.epoch, ps.gen
	k.c.World.After(d, func() {
		if k.epoch != e || ps.gen != g || ps.gone || k.lost {
			return
		}
		fn()
	})
}

// requestSync asks for a sync pass of the pod at time at (the earliest asked wins).
func (k *Kubelet) requestSync(ps *podState, at time.Duration) {
	if ps.syncPending && ps.syncAt <= at {
		return
	}
	ps.syncPending, ps.syncAt = true, at
	ps.syncTok++
	tok := ps.syncTok
	k.afterPod(ps, at-k.now(), func() {
		if ps.syncTok != tok {
			return
		}
		ps.syncPending = false
		k.startPass(ps)
	})
}

func (k *Kubelet) startPass(ps *podState) {
	if ps.terminating || ps.inert {
		return
	}
	if ps.busy {
		ps.again = true
		return
	}
	ps.busy = true
	k.step(ps, 0)
}

// step continues a sync pass at container i. It returns when it waits for a
// pull or a start; the timer continues the pass.
func (k *Kubelet) step(ps *podState, i int) {
	now := k.now()
	for ; i < len(ps.ctrs); i++ {
		c := ps.ctrs[i]
		if c.state == ctrRunning {
			continue
		}
		if c.lastTerm != nil { // it ran and exited: restart, subject to the crash loop back-off
			if !restartAllowed(ps.pod.Spec.RestartPolicy, c.lastTerm.ExitCode) {
				continue
			}
			cfg := k.cfg.CrashLoopBackOff
			if c.crash.inBackOffSince(c.exitedAt, now, cfg) {
				c.setWaiting("CrashLoopBackOff", fmt.Sprintf("back-off %s restarting failed container=%s pod=%s", c.crash.d, c.name, podRef(ps.pod)))
				k.requestSync(ps, c.exitedAt+c.crash.d)
				continue
			}
			c.crash.next(c.exitedAt, now, cfg)
		}
		present := k.images[c.image]
		if c.policy == corev1.PullNever && !present {
			c.setWaiting("ErrImageNeverPull", fmt.Sprintf("Container image %q is not present with pull policy of Never", c.image))
			continue
		}
		if c.policy == corev1.PullAlways || !present {
			if c.pull.has && now-c.pull.updated < c.pull.d {
				c.setWaiting("ImagePullBackOff", fmt.Sprintf("Back-off pulling image %q: ErrImagePull: %s", c.image, c.pullErr))
				k.requestSync(ps, c.pull.updated+c.pull.d)
				continue
			}
			k.afterPod(ps, k.cfg.ImagePull.Sample(k.rand), func() { k.pulled(ps, i) })
			return
		}
		k.create(ps, i)
		return
	}
	ps.busy = false
	if ps.again {
		ps.again = false
		k.startPass(ps)
		return
	}
	k.syncStatus(ps)
}

func (k *Kubelet) pulled(ps *podState, i int) {
	c := ps.ctrs[i]
	if k.unpullable[c.image] {
		now := k.now()
		c.pull.next(now, now, k.cfg.ImagePullBackOff)
		c.pullErr = fmt.Sprintf("failed to pull and unpack image %q: failed to resolve reference %q: not found", c.image, c.image)
		c.setWaiting("ErrImagePull", c.pullErr)
		k.requestSync(ps, now+k.cfg.SyncRetry.Sample(k.rand))
		k.syncStatus(ps)
		k.step(ps, i+1)
		return
	}
	k.images[c.image] = true
	k.create(ps, i)
}

func (k *Kubelet) create(ps *podState, i int) {
	k.afterPod(ps, k.cfg.ContainerStart.Sample(k.rand), func() {
		k.startContainer(ps, ps.ctrs[i])
		k.syncStatus(ps)
		k.step(ps, i+1)
	})
}

func (k *Kubelet) startContainer(ps *podState, c *container) {
	if c.started {
		c.restarts++
	}
	c.started = true
	c.state, c.reason, c.message = ctrRunning, "", ""
	c.startedAt = apiserver.Timestamp(k.c.World)
	c.ready, c.readyDue = false, false
	c.gen++
	c.id = "containerd://" + hash(fmt.Sprintf("%s/%s/%d", ps.uid, c.name, c.restarts))
	c.imageID = "sha256:" + hash(c.image)
	k.scheduleReadiness(ps, c)
}

func (k *Kubelet) scheduleReadiness(ps *podState, c *container) {
	d := k.cfg.Readiness.Sample(k.rand)
	if d == 0 {
		c.readyDue, c.ready = true, !ps.probeFails
		return
	}
	g := c.gen
	k.afterPod(ps, d, func() {
		if c.gen != g || c.state != ctrRunning {
			return
		}
		c.readyDue, c.ready = true, !ps.probeFails
		k.syncStatus(ps)
	})
}

// SetReadinessFailing makes the pod's readiness probe fail (every running
// container turns unready) or pass again (containers whose readiness delay
// has passed are ready again at once).
//
// On a lost node the probe's state still changes (the containers run on): the
// kubelet reports it when the node returns.
func (k *Kubelet) SetReadinessFailing(key string, failing bool) error {
	if k.removed {
		return fmt.Errorf("cluster: node %q is not running", k.Node)
	}
	ps := k.byKey[key]
	if ps == nil || ps.terminating || ps.inert {
		return fmt.Errorf("cluster: pod %q is not running on node %q", key, k.Node)
	}
	if ps.probeFails == failing {
		return nil
	}
	ps.probeFails = failing
	for _, c := range ps.ctrs {
		c.ready = !failing && c.state == ctrRunning && c.readyDue
	}
	if !k.lost {
		k.syncStatus(ps)
	}
	return nil
}

func (c *container) setWaiting(reason, message string) {
	c.state, c.reason, c.message = ctrWaiting, reason, message
	c.ready = false
}

// exit records the container's end.
func (c *container) exit(code int32, reason, message string, now time.Duration, at metav1.Time) {
	t := &corev1.ContainerStateTerminated{ExitCode: code, Reason: reason, Message: message, FinishedAt: at, ContainerID: c.id}
	if c.started {
		t.StartedAt = c.startedAt
	}
	c.prevTerm, c.lastTerm = c.lastTerm, t
	c.state, c.ready, c.exitedAt = ctrExited, false, now
	c.gen++
}

func restartAllowed(policy corev1.RestartPolicy, code int32) bool {
	switch policy {
	case corev1.RestartPolicyNever:
		return false
	case corev1.RestartPolicyOnFailure:
		return code != 0
	}
	return true
}

// Crash makes a running container of the pod ("ns/name") exit with exitCode;
// container "" is the first running one. With restartPolicy Always it is
// restarted: at once the first time, then after the CrashLoopBackOff (10 s,
// 20 s, 40 s … 300 s; forgotten after 10 min without a restart).
func (k *Kubelet) Crash(key, containerName string, exitCode int32) error {
	if k.lost || k.removed {
		return fmt.Errorf("cluster: node %q is not running", k.Node)
	}
	ps := k.byKey[key]
	if ps == nil || ps.terminating || ps.inert {
		return fmt.Errorf("cluster: pod %q is not running on node %q", key, k.Node)
	}
	var c *container
	for _, x := range ps.ctrs {
		if x.state == ctrRunning && (containerName == "" || x.name == containerName) {
			c = x
			break
		}
	}
	if c == nil {
		return fmt.Errorf("cluster: pod %q has no running container %q", key, containerName)
	}
	reason := "Error"
	if exitCode == 0 {
		reason = "Completed"
	}
	c.exit(exitCode, reason, "", k.now(), apiserver.Timestamp(k.c.World))
	k.startPass(ps)
	k.syncStatus(ps)
	return nil
}

// terminate stops the pod's containers after min(grace period, StopDelay)
// (at once if none is running), then reports the final status and deletes.
func (k *Kubelet) terminate(ps *podState) {
	ps.terminating = true
	ps.epoch = k.epoch
	k.bump(ps)
	running := false
	for _, c := range ps.ctrs {
		running = running || c.state == ctrRunning
	}
	var d time.Duration
	if running {
		grace := int64(corev1.DefaultTerminationGracePeriodSeconds)
		if g := ps.pod.DeletionGracePeriodSeconds; g != nil {
			grace = *g
		}
		d = min(k.cfg.StopDelay.Sample(k.rand), time.Duration(grace)*time.Second)
	}
	k.afterPod(ps, d, func() { k.finish(ps) })
}

func (k *Kubelet) finish(ps *podState) {
	now, at := k.now(), apiserver.Timestamp(k.c.World)
	for _, c := range ps.ctrs {
		switch {
		case c.state == ctrRunning:
			c.exit(0, "Completed", "", now, at)
		case c.state == ctrWaiting && c.lastTerm != nil:
			c.state = ctrExited // stays as it last exited
		case c.state == ctrWaiting:
			c.exit(137, "ContainerStatusUnknown", "The container could not be located when the pod was terminated", now, at)
		}
	}
	ps.finished = true
	k.syncStatus(ps)
}

// syncStatus writes the pod's status if it differs from the last version
// seen: one write in flight per pod; a conflict re-reads the pod and tries
// again. Once the pod is finished and its final status is written, the final
// delete follows.
func (k *Kubelet) syncStatus(ps *podState) {
	if k.lost || ps.gone || !ps.admitted || ps.inert || ps.writing {
		return
	}
	st := k.buildStatus(ps)
	if statusEqual(st, &ps.pod.Status) {
		if ps.finished {
			k.finalDelete(ps)
		}
		return
	}
	// The server only reads the pod it is sent, so a shallow copy of the
	// pod with its own copy of the new status is the request.
	obj := new(corev1.Pod)
	*obj = *ps.pod
	st.DeepCopyInto(&obj.Status)
	k.podRequest(ps, &apiserver.Request{Client: k.client, Verb: apiserver.Update, Kind: apiserver.Pods,
		Namespace: obj.Namespace, Name: obj.Name, Subresource: "status", Object: obj}, func(resp *apiserver.Response) {
		switch {
		case resp.Err == nil:
			k.accept(ps, resp.Object.(*corev1.Pod))
		case isConflict(resp.Err):
			k.refetch(ps)
			return
		case isNotFound(resp.Err):
			k.forget(ps)
			return
		default:
			k.retryStatus(ps)
			return
		}
		k.syncStatus(ps)
	})
}

// podRequest sends the pod's one request in flight (a status write or the
// GET after a conflict) and hands the response to done unless the kubelet
// has since sent another, lost its node, or forgotten the pod.
func (k *Kubelet) podRequest(ps *podState, req *apiserver.Request, done func(*apiserver.Response)) {
	ps.writing = true
	ps.writeTok++
	tok := ps.writeTok
	k.c.API.Do(req, func(resp *apiserver.Response) {
		if tok != ps.writeTok {
			return
		}
		ps.writing = false
		if ps.gone || k.lost {
			return
		}
		done(resp)
	})
}

func (k *Kubelet) retryStatus(ps *podState) {
	e := k.epoch
	k.c.World.After(retryDelay, func() {
		if k.epoch == e && !ps.gone {
			k.syncStatus(ps)
		}
	})
}

// refetch GETs the pod after a conflict and syncs again.
func (k *Kubelet) refetch(ps *podState) {
	k.podRequest(ps, &apiserver.Request{Client: k.client, Verb: apiserver.Get, Kind: apiserver.Pods,
		Namespace: ps.pod.Namespace, Name: ps.pod.Name}, func(resp *apiserver.Response) {
		switch {
		case resp.Err == nil && resp.Object.GetUID() == ps.uid:
			k.accept(ps, resp.Object.(*corev1.Pod))
			k.syncStatus(ps)
		case resp.Err == nil || isNotFound(resp.Err):
			k.forget(ps)
		default:
			k.retryStatus(ps)
		}
	})
}

// finalDelete removes the finished pod from the API: grace 0, this uid only.
func (k *Kubelet) finalDelete(ps *podState) {
	if ps.deleteSent || ps.pod.DeletionTimestamp == nil {
		return
	}
	ps.deleteSent = true
	uid := ps.uid
	k.c.API.Do(&apiserver.Request{Client: k.client, Verb: apiserver.Delete, Kind: apiserver.Pods,
		Namespace: ps.pod.Namespace, Name: ps.pod.Name,
		Delete: &metav1.DeleteOptions{GracePeriodSeconds: ptrTo(int64(0)), Preconditions: &metav1.Preconditions{UID: &uid}}},
		func(resp *apiserver.Response) {
			if ps.gone {
				return
			}
			switch {
			case resp.Err == nil:
			case isNotFound(resp.Err) || isConflict(resp.Err):
				if !k.lost {
					k.forget(ps)
				}
			default:
				ps.deleteSent = false
				k.retryStatus(ps)
			}
		})
}

// buildStatus is the pod's status as this kubelet sees it, on top of the last
// version seen (conditions others set, such as PodScheduled or
// DisruptionTarget, are kept; a condition whose status does not change keeps
// its lastTransitionTime).
//
// It is built in the kubelet's scratch status, valid until the next call:
// most builds are only compared with the pod's status, and a write copies it.
// The fields not set below are shared with ps.pod: read-only.
func (k *Kubelet) buildStatus(ps *podState) *corev1.PodStatus {
	now := apiserver.Timestamp(k.c.World)
	st := &k.scratch
	conds, statuses, hostIPs, podIPs := st.Conditions[:0], st.ContainerStatuses[:0], st.HostIPs[:0], st.PodIPs[:0]
	*st = ps.pod.Status
	st.Conditions = append(conds, ps.pod.Status.Conditions...)
	st.Phase = k.phase(ps)
	st.HostIP, st.HostIPs = k.ip, append(hostIPs, corev1.HostIP{IP: k.ip})
	st.PodIP, st.PodIPs = ps.ip, append(podIPs, corev1.PodIP{IP: ps.ip})
	st.StartTime = &ps.startTime

	cond := func(t corev1.PodConditionType, ok bool, reason, message string) {
		c := corev1.PodCondition{Type: t, Status: corev1.ConditionTrue}
		if !ok {
			c.Status, c.Reason, c.Message = corev1.ConditionFalse, reason, message
		}
		setPodCondition(st, c, now)
	}
	cond(corev1.PodReadyToStartContainers, !ps.finished, "", "")
	cond(corev1.PodInitialized, true, "", "")
	var unready []string
	for _, c := range ps.ctrs {
		if !c.ready {
			unready = append(unready, c.name)
		}
	}
	sort.Strings(unready)
	terminal := st.Phase == corev1.PodSucceeded || st.Phase == corev1.PodFailed
	switch {
	case terminal:
		cond(corev1.ContainersReady, false, "PodCompleted", "")
		cond(corev1.PodReady, false, "PodCompleted", "")
	case len(unready) > 0:
		msg := fmt.Sprintf("containers with unready status: [%s]", strings.Join(unready, " "))
		cond(corev1.ContainersReady, false, "ContainersNotReady", msg)
		cond(corev1.PodReady, false, "ContainersNotReady", msg)
	default:
		cond(corev1.ContainersReady, true, "", "")
		if gate := unmetReadinessGate(ps.pod); gate != "" {
			cond(corev1.PodReady, false, "ReadinessGatesNotReady", fmt.Sprintf("corresponding condition of pod readiness gate %q does not exist.", gate))
		} else {
			cond(corev1.PodReady, true, "", "")
		}
	}

	for _, c := range ps.ctrs {
		cs := corev1.ContainerStatus{Name: c.name, Image: c.image, ImageID: c.imageID, ContainerID: c.id,
			Ready: c.ready, RestartCount: c.restarts, Started: ptrTo(c.state == ctrRunning)}
		switch c.state {
		case ctrWaiting:
			cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: c.reason, Message: c.message}
			if c.lastTerm != nil {
				cs.LastTerminationState.Terminated = c.lastTerm.DeepCopy()
			}
		case ctrRunning:
			cs.State.Running = &corev1.ContainerStateRunning{StartedAt: c.startedAt}
			if c.lastTerm != nil {
				cs.LastTerminationState.Terminated = c.lastTerm.DeepCopy()
			}
		case ctrExited:
			cs.State.Terminated = c.lastTerm.DeepCopy()
			if c.prevTerm != nil {
				cs.LastTerminationState.Terminated = c.prevTerm.DeepCopy()
			}
		}
		statuses = append(statuses, cs)
	}
	if len(statuses) > 1 {
		sort.Slice(statuses, func(i, j int) bool { return statuses[i].Name < statuses[j].Name })
	}
	st.ContainerStatuses = statuses
	return st
}

// phase follows the kubelet's rules: Pending until every container has run
// once; then Running while any runs or may be restarted; a finished
// (deleted) pod is Succeeded if every container exited 0, else Failed.
func (k *Kubelet) phase(ps *podState) corev1.PodPhase {
	var waiting, running, stopped, succeeded int
	for _, c := range ps.ctrs {
		switch {
		case c.state == ctrRunning:
			running++
		case c.lastTerm != nil:
			stopped++
			if c.lastTerm.ExitCode == 0 {
				succeeded++
			}
		default:
			waiting++
		}
	}
	switch {
	case ps.finished:
		if stopped == succeeded {
			return corev1.PodSucceeded
		}
		return corev1.PodFailed
	case waiting > 0:
		return corev1.PodPending
	case running > 0:
		return corev1.PodRunning
	case stopped > 0:
		switch ps.pod.Spec.RestartPolicy {
		case corev1.RestartPolicyNever:
			if stopped == succeeded {
				return corev1.PodSucceeded
			}
			return corev1.PodFailed
		case corev1.RestartPolicyOnFailure:
			if stopped == succeeded {
				return corev1.PodSucceeded
			}
		}
		return corev1.PodRunning
	}
	return corev1.PodPending
}

func unmetReadinessGate(pod *corev1.Pod) string {
	for _, g := range pod.Spec.ReadinessGates {
		c := podCondition(&pod.Status, g.ConditionType)
		if c == nil || c.Status != corev1.ConditionTrue {
			return string(g.ConditionType)
		}
	}
	return ""
}

// podRef is how the kubelet names a pod in messages: name_namespace(uid).
func podRef(pod *corev1.Pod) string {
	return fmt.Sprintf("%s_%s(%s)", pod.Name, pod.Namespace, pod.UID)
}

// statusEqual reports whether st, built by buildStatus on top of base (the
// status of ps.pod), equals base: reflect.DeepEqual, or failing that the
// semantic comparison (nil versus empty, equal quantities written
// differently). buildStatus copies base and replaces only the fields compared
// below; every other field is base's own value, equal by construction, so
// comparing these fields is comparing the statuses.
func statusEqual(st, base *corev1.PodStatus) bool {
	if statusDiffers(st, base) {
		return false
	}
	return st.Phase == base.Phase && st.HostIP == base.HostIP && st.PodIP == base.PodIP &&
		conditionsEqual(st.Conditions, base.Conditions) &&
		deepEqual(st.HostIPs, base.HostIPs) && deepEqual(st.PodIPs, base.PodIPs) &&
		deepEqual(st.StartTime, base.StartTime) && deepEqual(st.ContainerStatuses, base.ContainerStatuses)
}

func deepEqual(a, b any) bool { return reflect.DeepEqual(a, b) || apiequality.Semantic.DeepEqual(a, b) }

// conditionsEqual is deepEqual for conditions (flat structs: == is
// reflect.DeepEqual) without reflection in the common case.
func conditionsEqual(a, b []corev1.PodCondition) bool {
	if len(a) != len(b) || (a == nil) != (b == nil) {
		return deepEqual(a, b)
	}
	for i := range a {
		if a[i] != b[i] && !apiequality.Semantic.DeepEqual(a[i], b[i]) {
			return false
		}
	}
	return true
}

// statusDiffers is a cheap test for the differences a status write usually
// makes (phase, a condition's status, a container's state or readiness).
// It is true only when the statuses are unequal by both comparisons of
// statusEqual; false says nothing.
func statusDiffers(a, b *corev1.PodStatus) bool {
	if a.Phase != b.Phase || len(a.Conditions) != len(b.Conditions) || len(a.ContainerStatuses) != len(b.ContainerStatuses) {
		return true
	}
	for i := range a.Conditions {
		if a.Conditions[i].Type != b.Conditions[i].Type || a.Conditions[i].Status != b.Conditions[i].Status {
			return true
		}
	}
	for i := range a.ContainerStatuses {
		x, y := &a.ContainerStatuses[i], &b.ContainerStatuses[i]
		if x.Ready != y.Ready || x.RestartCount != y.RestartCount ||
			(x.State.Running == nil) != (y.State.Running == nil) ||
			(x.State.Waiting == nil) != (y.State.Waiting == nil) ||
			(x.State.Terminated == nil) != (y.State.Terminated == nil) {
			return true
		}
	}
	return false
}

func hash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}
