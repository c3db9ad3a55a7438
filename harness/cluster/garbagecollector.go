package cluster

import (
	"encoding/json"
	"slices"
	"strconv"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/controller"
	"github.com/ctrlsim/ctrlsim/harness/sim"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// ClientGarbageCollector is the client name of the garbage collector's
// requests in the history, and the name of its actor (sim.Group).
const ClientGarbageCollector = "garbage-collector"

const (
	gcMaxWorkers      = 20  // workers per queue (upstream's --concurrent-gc-syncs)
	gcOrphanBatch     = 100 // dependents patched concurrently when orphaning
	gcConflictRetries = 5   // read-modify-write attempts when removing a finalizer
)

// GarbageCollector is the simulated kube-controller-manager garbage collector:
// an actor that deletes objects whose owners are gone and carries out the
// Orphan and Foreground deletion policies.
//
// Like upstream it works from its own dependency graph, fed only by its
// informers (one per kind, with the server's default watch delay), so it sees
// the world late; an owner its graph does not know is verified with a live
// GET before a dependent is acted on. It runs on the controller runtime as
// upstream's runs on client-go: graph changes enqueue uids on two work queues
// (attemptToDelete, attemptToOrphan) with the default controller rate limiter,
// and an item that fails is retried rate-limited. Everything it changes goes
// through ordinary API requests, recorded in the history under the client
// ClientGarbageCollector. Nothing polls: workers (coroutines, up to gcMaxWorkers
// per queue) start once every informer has synced and only while their queue
// has items, so an idle collector holds no coroutine.
type GarbageCollector struct {
	ctx       *controller.Context
	informers []*controller.Informer // one per served kind, in apiserver.Kinds order
	graph     *gcGraph
	synced    bool
	stopped   bool

	attemptToDelete *gcWorkers // dependents to check, and owners deleted in the foreground
	attemptToOrphan *gcWorkers // owners deleted with the Orphan policy
}

// gcWorkers is a work queue and the workers that drain it.
type gcWorkers struct {
	*controller.Queue[types.UID]
	name     string
	process  func(types.UID) error
	busy     int // workers started and not yet ended
	inflight int // workers processing an item
}

// StartGarbageCollector starts a garbage collector against api (New starts
// the cluster's own; a test of a bare API server starts one with this). Its
// workers start once every kind has been listed (the graph is complete
// enough to act on).
func StartGarbageCollector(api *apiserver.Server) *GarbageCollector {
	ctx := controller.NewContext(ClientGarbageCollector, api)
	gc := &GarbageCollector{ctx: ctx, graph: newGCGraph()}
	gc.attemptToDelete = gc.newWorkers("attempt-to-delete", gc.attemptToDeleteItem)
	gc.attemptToOrphan = gc.newWorkers("attempt-to-orphan", gc.attemptToOrphanItem)
	ctx.Group().OnFailure(func(sim.Failure) { gc.Stop() })
	for _, kind := range apiserver.Kinds {
		inf := ctx.Informer(kind)
		for _, idx := range []string{controller.IndexNamespace, controller.IndexOwnerUID, controller.IndexLabel} {
			inf.RemoveIndex(idx) // the graph is its index
		}
		inf.AddHandler(controller.Handler{
			OnAdd: gc.upsert,
			OnUpdate: func(old, cur apiserver.Object) {
				if old.GetUID() != cur.GetUID() {
					gc.remove(old.GetUID()) // replaced while the collector was not watching
				}
				gc.upsert(cur)
			},
			OnDelete: func(obj apiserver.Object) { gc.remove(obj.GetUID()) },
			OnSync:   gc.onSync,
		})
		gc.informers = append(gc.informers, inf)
	}
	for _, inf := range gc.informers {
		inf.Start()
	}
	return gc
}

func (gc *GarbageCollector) newWorkers(name string, process func(types.UID) error) *gcWorkers {
	ws := &gcWorkers{Queue: controller.NewQueue[types.UID](gc.ctx.World(), "garbage_collector_"+name, nil),
		name: name, process: process}
	ws.OnReady(func() { gc.kick(ws) })
	return ws
}

// onSync starts the workers once every informer has listed.
func (gc *GarbageCollector) onSync() {
	if gc.synced || !gc.Synced() {
		return
	}
	gc.synced = true
	gc.kick(gc.attemptToDelete)
	gc.kick(gc.attemptToOrphan)
}

// Synced reports whether every kind has been listed once.
func (gc *GarbageCollector) Synced() bool {
	for _, inf := range gc.informers {
		if !inf.HasSynced() {
			return false
		}
	}
	return true
}

// Stop ends the garbage collector's watches; its workers stop after the item
// they are processing.
func (gc *GarbageCollector) Stop() {
	if gc.stopped {
		return
	}
	gc.stopped = true
	for _, inf := range gc.informers {
		inf.Stop()
	}
	gc.attemptToDelete.ShutDown()
	gc.attemptToOrphan.ShutDown()
}

// Watcher is the garbage collector's current watch of a kind (for fault injection).
func (gc *GarbageCollector) Watcher(kind apiserver.Kind) *apiserver.Watcher {
	return gc.ctx.Informer(kind).Watcher()
}

// Context is the collector's controller context (its client, group and informers).
func (gc *GarbageCollector) Context() *controller.Context { return gc.ctx }

// kick starts workers for queued items no worker is about to take.
func (gc *GarbageCollector) kick(ws *gcWorkers) {
	for gc.synced && !gc.stopped && ws.busy < gcMaxWorkers && ws.busy-ws.inflight < ws.Len() {
		ws.busy++
		gc.ctx.Go(ws.name, func() { gc.work(ws) })
	}
}

// work drains the queue, as upstream's runAttemptToDeleteWorker: an item that
// failed is retried rate-limited, one that succeeded is forgotten.
func (gc *GarbageCollector) work(ws *gcWorkers) {
	defer func() { ws.busy-- }()
	for !gc.stopped && ws.Len() > 0 {
		uid, _ := ws.Get() // an item is queued: Get does not park
		ws.inflight++
		err := ws.process(uid)
		ws.inflight--
		if err != nil {
			ws.AddRateLimited(uid)
		} else {
			ws.Forget(uid)
		}
		ws.Done(uid)
	}
}

// call sends a request as the collector and waits (parks the worker) for the
// response. Response objects are shared with the server: copy before changing.
func (gc *GarbageCollector) call(req *apiserver.Request) *apiserver.Response {
	return gc.ctx.Client().Do(req)
}

// ---------------------------------------------------------------------------
// The dependency graph.

// gcNode is one object as the graph knows it. A node that is not observed is
// known only as an owner named in other objects' ownerReferences (not seen
// yet, or already deleted): upstream's "virtual" node.
type gcNode struct {
	uid          types.UID
	kind         apiserver.Kind
	namespace    string
	name         string
	rv           uint64 // resourceVersion of the state last observed
	observed     bool
	owners       []metav1.OwnerReference
	dependents   map[types.UID]*gcNode // nil until the first dependent
	beingDeleted bool                  // deletionTimestamp is set
	finalizers   []string              // shared with the watch event: do not modify
}

func (n *gcNode) hasFinalizer(f string) bool { return slices.Contains(n.finalizers, f) }

// deletingDependents: deleted with the Foreground policy, waiting for its dependents.
func (n *gcNode) deletingDependents() bool {
	return n.beingDeleted && n.hasFinalizer(metav1.FinalizerDeleteDependents)
}

// orphaning: deleted with the Orphan policy, waiting to release its dependents.
func (n *gcNode) orphaning() bool {
	return n.beingDeleted && n.hasFinalizer(metav1.FinalizerOrphanDependents)
}

// is reports whether the node is the object an owner reference points at.
func (n *gcNode) is(id gcOwnerKey) bool {
	return n.kind == id.kind && n.namespace == id.namespace && n.name == id.name
}

// sortedDependents lists the dependents by uid: the order requests go out in.
func (n *gcNode) sortedDependents() []*gcNode {
	out := make([]*gcNode, 0, len(n.dependents))
	for _, d := range n.dependents {
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b *gcNode) int { return cmpUID(a.uid, b.uid) })
	return out
}

// hasBlockingDependents reports whether a dependent still in storage (as far
// as the graph knows) references n with blockOwnerDeletion=true; a dependent
// that is itself terminating still blocks until it is gone.
func (n *gcNode) hasBlockingDependents() bool {
	for _, d := range n.dependents {
		for _, ref := range d.owners {
			if ref.UID == n.uid && blocksOwnerDeletion(ref) {
				return true
			}
		}
	}
	return false
}

// gcOwnerKey is where an owner reference points: kind, namespace, name and uid.
type gcOwnerKey struct {
	kind      apiserver.Kind
	namespace string
	name      string
	uid       types.UID
}

// gcGraph is the collector's picture of the objects and their ownership.
type gcGraph struct {
	nodes map[types.UID]*gcNode
	// gone holds the uids whose deletion the graph has seen. A uid is never
	// reused, so an owner in it is absent for good.
	gone map[types.UID]bool
	// absent holds owner references that a live GET found dangling (NotFound,
	// or another uid at that name): upstream's absent-owner cache.
	absent map[gcOwnerKey]bool
}

func newGCGraph() *gcGraph {
	return &gcGraph{nodes: map[types.UID]*gcNode{}, gone: map[types.UID]bool{}, absent: map[gcOwnerKey]bool{}}
}

// gcOwnerIdentity resolves an owner reference of an object in namespace ns. It
// is false for references the collector cannot resolve (a kind the server does
// not serve, a namespaced owner of a cluster-scoped object): those are never
// acted on, as upstream keeps retrying rather than deleting.
func gcOwnerIdentity(ns string, ref metav1.OwnerReference) (gcOwnerKey, bool) {
	kind := apiserver.Kind(ref.Kind)
	if !slices.Contains(apiserver.Kinds, kind) {
		return gcOwnerKey{}, false
	}
	id := gcOwnerKey{kind: kind, name: ref.Name, uid: ref.UID}
	if apiserver.Namespaced(kind) {
		if ns == "" {
			return gcOwnerKey{}, false
		}
		id.namespace = ns
	}
	return id, true
}

func blocksOwnerDeletion(ref metav1.OwnerReference) bool {
	return ref.BlockOwnerDeletion != nil && *ref.BlockOwnerDeletion
}

func cmpUID(a, b types.UID) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// upsert records an added or modified object (from a watch event or a list).
func (gc *GarbageCollector) upsert(obj apiserver.Object) {
	g := gc.graph
	uid := obj.GetUID()
	n := g.nodes[uid]
	// An observed node is not gone (remove unobserves what it marks gone), so
	// only a node not observed needs the gone check.
	if (n == nil || !n.observed) && g.gone[uid] {
		return // its deletion was seen already, and uids are never reused
	}
	rv, _ := strconv.ParseUint(obj.GetResourceVersion(), 10, 64)
	if n != nil && n.observed && rv <= n.rv {
		return // not newer than what the graph holds
	}
	if n == nil {
		n = &gcNode{uid: uid}
		g.nodes[uid] = n
	}
	wasDeletingDependents := n.observed && n.deletingDependents()
	wasOrphaning := n.observed && n.orphaning()
	n.kind, n.namespace, n.name = apiserver.KindOf(obj), obj.GetNamespace(), obj.GetName()
	n.rv, n.observed = rv, true
	n.beingDeleted = obj.GetDeletionTimestamp() != nil
	n.finalizers = obj.GetFinalizers()
	gc.setOwners(n, obj.GetOwnerReferences())

	if n.orphaning() && !wasOrphaning {
		gc.attemptToOrphan.Add(uid)
	}
	if n.deletingDependents() && !wasDeletingDependents {
		for _, d := range n.sortedDependents() {
			gc.attemptToDelete.Add(d.uid)
		}
		gc.attemptToDelete.Add(uid)
	}
	if gc.needsAttention(n) {
		gc.attemptToDelete.Add(uid)
	}
}

// setOwners links n to the owners its references name, creating virtual
// nodes for owners the graph has not seen, and wakes owners that waited on n.
func (gc *GarbageCollector) setOwners(n *gcNode, refs []metav1.OwnerReference) {
	old := n.owners
	for _, ref := range old {
		if !slices.ContainsFunc(refs, func(r metav1.OwnerReference) bool { return r.UID == ref.UID }) {
			gc.unlink(n, ref.UID)
		}
	}
	for _, ref := range refs {
		i := slices.IndexFunc(old, func(r metav1.OwnerReference) bool { return r.UID == ref.UID })
		if i < 0 {
			gc.link(n, ref)
			continue
		}
		if blocksOwnerDeletion(old[i]) && !blocksOwnerDeletion(ref) {
			if o := gc.graph.nodes[ref.UID]; o != nil && o.deletingDependents() {
				gc.attemptToDelete.Add(o.uid) // one fewer dependent to wait for
			}
		}
	}
	n.owners = refs
}

func (gc *GarbageCollector) link(n *gcNode, ref metav1.OwnerReference) {
	g := gc.graph
	o := g.nodes[ref.UID]
	if o == nil {
		o = &gcNode{uid: ref.UID, kind: apiserver.Kind(ref.Kind), name: ref.Name}
		if apiserver.Namespaced(o.kind) {
			o.namespace = n.namespace
		}
		g.nodes[ref.UID] = o
	}
	if o.dependents == nil {
		o.dependents = map[types.UID]*gcNode{}
	}
	o.dependents[n.uid] = n
	if o.orphaning() {
		// A dependent the orphaning pass may have missed (the graph is late):
		// orphan again, or it would be collected once the owner is gone.
		gc.attemptToOrphan.Add(o.uid)
	}
}

func (gc *GarbageCollector) unlink(n *gcNode, owner types.UID) {
	g := gc.graph
	o := g.nodes[owner]
	if o == nil {
		return
	}
	delete(o.dependents, n.uid)
	if o.deletingDependents() {
		gc.attemptToDelete.Add(o.uid) // maybe the last dependent it waited for
	}
	if !o.observed && len(o.dependents) == 0 {
		delete(g.nodes, owner)
	}
}

// remove records the deletion of an object: its dependents are checked again,
// and owners deleted in the foreground may now be free to go.
func (gc *GarbageCollector) remove(uid types.UID) {
	g := gc.graph
	g.gone[uid] = true
	n := g.nodes[uid]
	if n == nil {
		return
	}
	for _, ref := range n.owners {
		gc.unlink(n, ref.UID)
	}
	// What is left is a name in its dependents' references.
	n.owners, n.observed, n.beingDeleted, n.finalizers = nil, false, false, nil
	deps := n.sortedDependents()
	if len(deps) == 0 {
		delete(g.nodes, uid)
	}
	for _, d := range deps {
		gc.attemptToDelete.Add(d.uid)
	}
}

// needsAttention reports whether n has an owner reference to look at: an
// owner that is gone, unknown to the graph, or deleting its dependents.
func (gc *GarbageCollector) needsAttention(n *gcNode) bool {
	if n.beingDeleted {
		return false
	}
	g := gc.graph
	for _, ref := range n.owners {
		id, ok := gcOwnerIdentity(n.namespace, ref)
		if !ok {
			continue
		}
		if g.gone[ref.UID] || g.absent[id] {
			return true
		}
		o := g.nodes[ref.UID]
		if o == nil || !o.observed || !o.is(id) || o.deletingDependents() {
			return true
		}
	}
	return false
}

// ---------------------------------------------------------------------------
// Processing.

type gcOwnerState int

const (
	ownerSolid    gcOwnerState = iota // exists and is not deleting its dependents
	ownerDangling                     // absent, or another object (uid) at that name
	ownerWaiting                      // being deleted in the foreground: waits for its dependents
)

// attemptToDeleteItem looks at one object: an owner deleted in the foreground
// loses its finalizer once no blocking dependent is left; a dependent whose
// owners are all gone (or deleting in the foreground) is deleted; one that has
// a solid owner left loses its references to the others.
func (gc *GarbageCollector) attemptToDeleteItem(uid types.UID) error {
	n := gc.graph.nodes[uid]
	if n == nil || !n.observed {
		return nil
	}
	if n.deletingDependents() {
		// Each blocking dependent's deletion (or release) queues n again.
		if n.hasBlockingDependents() {
			return nil
		}
		return gc.removeFinalizer(n, metav1.FinalizerDeleteDependents)
	}
	if n.beingDeleted || !gc.needsAttention(n) {
		// Terminating objects (a pod in its grace period, an object held by
		// someone else's finalizer) are left alone; so are objects whose
		// owners all look fine to the graph.
		return nil
	}
	resp := gc.call(&apiserver.Request{Verb: apiserver.Get, Kind: n.kind, Namespace: n.namespace, Name: n.name})
	if apierrors.IsNotFound(resp.Err) {
		return nil
	}
	if resp.Err != nil {
		return resp.Err
	}
	latest := resp.Object
	if latest.GetUID() != uid || latest.GetDeletionTimestamp() != nil {
		return nil // replaced or being deleted: the graph will hear of it
	}
	refs := latest.GetOwnerReferences()
	var solid, dangling, waiting []types.UID
	for _, ref := range refs {
		state, err := gc.classify(latest.GetNamespace(), ref)
		if err != nil {
			return err
		}
		switch state {
		case ownerSolid:
			solid = append(solid, ref.UID)
		case ownerDangling:
			dangling = append(dangling, ref.UID)
		case ownerWaiting:
			waiting = append(waiting, ref.UID)
		}
	}
	switch {
	case len(refs) == 0:
		return nil
	case len(solid) > 0:
		if len(dangling) == 0 && len(waiting) == 0 {
			return nil
		}
		// Keep the solid owners. Dropping the reference to an owner deleted in
		// the foreground lets that owner go without deleting this object.
		drop := append(append([]types.UID{}, dangling...), waiting...)
		return gc.patch(n, removeOwnersPatch(uid, drop))
	case len(waiting) > 0 && len(n.dependents) > 0:
		// An owner waits for this object, which has dependents of its own:
		// delete it in the foreground too, so the owner waits for the whole
		// subtree. If a dependent also waits for this object (a cycle), stop
		// this object from blocking its owners, or nothing could ever go.
		for _, d := range n.sortedDependents() {
			if d.deletingDependents() {
				if patch := unblockOwnersPatch(uid, refs); patch != nil {
					if err := gc.patch(n, patch); err != nil {
						return err
					}
				}
				break
			}
		}
		return gc.deleteObject(n, metav1.DeletePropagationForeground)
	default:
		policy := metav1.DeletePropagationBackground
		switch fs := latest.GetFinalizers(); {
		case slices.Contains(fs, metav1.FinalizerOrphanDependents):
			policy = metav1.DeletePropagationOrphan
		case slices.Contains(fs, metav1.FinalizerDeleteDependents):
			policy = metav1.DeletePropagationForeground
		}
		return gc.deleteObject(n, policy)
	}
}

// classify tells what an owner reference of an object in namespace ns points
// at. The graph answers for owners it has observed alive, which only ever keeps
// the dependent; any other owner is checked with a live GET before the
// dependent is acted on (the graph is late), and an absence is remembered.
func (gc *GarbageCollector) classify(ns string, ref metav1.OwnerReference) (gcOwnerState, error) {
	g := gc.graph
	id, ok := gcOwnerIdentity(ns, ref)
	if !ok {
		return ownerSolid, nil // unresolvable: never a reason to delete
	}
	if g.gone[ref.UID] || g.absent[id] {
		return ownerDangling, nil
	}
	if o := g.nodes[ref.UID]; o != nil && o.observed && o.is(id) && !o.deletingDependents() {
		return ownerSolid, nil
	}
	// Unknown to the graph, or (as far as the graph knows) waiting for its
	// dependents, which would make this one go: ask the server.
	resp := gc.call(&apiserver.Request{Verb: apiserver.Get, Kind: id.kind, Namespace: id.namespace, Name: id.name})
	if apierrors.IsNotFound(resp.Err) {
		g.absent[id] = true
		return ownerDangling, nil
	}
	if resp.Err != nil {
		return 0, resp.Err
	}
	owner := resp.Object
	if owner.GetUID() != ref.UID {
		g.absent[id] = true
		return ownerDangling, nil
	}
	if owner.GetDeletionTimestamp() != nil && slices.Contains(owner.GetFinalizers(), metav1.FinalizerDeleteDependents) {
		return ownerWaiting, nil
	}
	return ownerSolid, nil
}

// attemptToOrphanItem releases the dependents of an owner deleted with the
// Orphan policy, then removes its "orphan" finalizer so that it can go.
func (gc *GarbageCollector) attemptToOrphanItem(uid types.UID) error {
	n := gc.graph.nodes[uid]
	if n == nil || !n.observed || !n.orphaning() {
		return nil
	}
	deps := n.sortedDependents()
	var firstErr error
	for start := 0; start < len(deps); start += gcOrphanBatch {
		batch := deps[start:min(start+gcOrphanBatch, len(deps))]
		gc.ctx.Parallel(len(batch), func(i int) {
			d := batch[i]
			if err := gc.patch(d, removeOwnersPatch(d.uid, []types.UID{uid})); err != nil && firstErr == nil {
				firstErr = err
			}
		})
	}
	if firstErr != nil {
		return firstErr
	}
	return gc.removeFinalizer(n, metav1.FinalizerOrphanDependents)
}

// patch applies a strategic merge patch to n. A patch carries n's uid as a
// precondition: NotFound or a Conflict means n is gone or was replaced.
func (gc *GarbageCollector) patch(n *gcNode, patch []byte) error {
	resp := gc.call(&apiserver.Request{Verb: apiserver.Patch, Kind: n.kind, Namespace: n.namespace, Name: n.name,
		PatchType: types.StrategicMergePatchType, Patch: patch})
	if resp.Err == nil || apierrors.IsNotFound(resp.Err) || apierrors.IsConflict(resp.Err) {
		return nil
	}
	return resp.Err
}

// deleteObject deletes n with a uid precondition.
func (gc *GarbageCollector) deleteObject(n *gcNode, policy metav1.DeletionPropagation) error {
	uid := n.uid
	resp := gc.call(&apiserver.Request{Verb: apiserver.Delete, Kind: n.kind, Namespace: n.namespace, Name: n.name,
		Delete: &metav1.DeleteOptions{PropagationPolicy: &policy, Preconditions: &metav1.Preconditions{UID: &uid}}})
	if resp.Err == nil || apierrors.IsNotFound(resp.Err) || apierrors.IsConflict(resp.Err) {
		return nil
	}
	return resp.Err
}

// removeFinalizer removes a finalizer from n: a read and an update with its
// resourceVersion as a precondition, read again after a conflict.
func (gc *GarbageCollector) removeFinalizer(n *gcNode, finalizer string) error {
	for attempt := 1; ; attempt++ {
		resp := gc.call(&apiserver.Request{Verb: apiserver.Get, Kind: n.kind, Namespace: n.namespace, Name: n.name})
		if apierrors.IsNotFound(resp.Err) {
			return nil
		}
		if resp.Err != nil {
			return resp.Err
		}
		cur := resp.Object
		if cur.GetUID() != n.uid || !slices.Contains(cur.GetFinalizers(), finalizer) {
			return nil
		}
		obj := cur.DeepCopyObject().(apiserver.Object)
		obj.SetFinalizers(slices.DeleteFunc(slices.Clone(cur.GetFinalizers()), func(f string) bool { return f == finalizer }))
		resp = gc.call(&apiserver.Request{Verb: apiserver.Update, Kind: n.kind, Namespace: n.namespace, Name: n.name, Object: obj})
		if resp.Err == nil || apierrors.IsNotFound(resp.Err) {
			return nil
		}
		if !apierrors.IsConflict(resp.Err) || attempt == gcConflictRetries {
			return resp.Err
		}
	}
}

// removeOwnersPatch deletes the references to owners from a dependent's
// ownerReferences (a strategic merge patch keyed by uid, so references added
// meanwhile survive), with the dependent's uid as a precondition.
func removeOwnersPatch(dependent types.UID, owners []types.UID) []byte {
	refs := make([]map[string]any, len(owners))
	for i, u := range owners {
		refs[i] = map[string]any{"$patch": "delete", "uid": u}
	}
	return marshalMetaPatch(dependent, refs)
}

// unblockOwnersPatch sets blockOwnerDeletion=false on the references that
// have it set; nil when none does.
func unblockOwnersPatch(dependent types.UID, refs []metav1.OwnerReference) []byte {
	var out []metav1.OwnerReference
	for _, r := range refs {
		if blocksOwnerDeletion(r) {
			r.BlockOwnerDeletion = new(bool)
			out = append(out, r)
		}
	}
	if out == nil {
		return nil
	}
	return marshalMetaPatch(dependent, out)
}

func marshalMetaPatch(uid types.UID, ownerRefs any) []byte {
	b, err := json.Marshal(map[string]any{"metadata": map[string]any{"uid": uid, "ownerReferences": ownerRefs}})
	if err != nil {
		panic(err) // maps of strings and owner references always marshal
	}
	return b
}
