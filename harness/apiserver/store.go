package apiserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/history"
	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apimachinery/pkg/watch"
)

// store holds the objects of one kind and the recent events of that kind.
type store struct {
	info     *kindInfo
	objects  map[string]Object
	log      []Event // recent events in resourceVersion order, for watches from an old version
	logHead  int     // log[:logHead] are dropped
	watchers []*Watcher
	byNode   map[string][]*Watcher // pod watchers with a spec.nodeName field selector
	sorted   []Object              // objects in key order, nil after a change
	dropped  uint64                // the newest event no longer kept for watches
}

func newStore(info *kindInfo) *store {
	return &store{info: info, objects: map[string]Object{}, byNode: map[string][]*Watcher{}}
}

func (st *store) resource() schema.GroupResource {
	return schema.GroupResource{Group: st.info.gv.Group, Resource: st.info.plural}
}

func (st *store) groupKind() schema.GroupKind {
	return schema.GroupKind{Group: st.info.gv.Group, Kind: string(st.info.kind)}
}

// Event is one committed change, as watchers and commit observers see it.
type Event struct {
	Type   watch.EventType // Added, Modified, Deleted; Error for a closed watch
	Kind   Kind
	Object Object // the object after the change (for Deleted: its last state)
	Old    Object // the object before the change (nil for Added)
	RV     uint64
	Err    error  // for Error events: why the watch ended (410 Gone, dropped)
	Key    string // "namespace/name" ("name" if cluster-scoped), as the store keys it
	// Client made the request that committed the change, and Called is when
	// it was sent (commit observers only; watchers are not told who wrote).
	Client string
	Called time.Duration
}

func (s *Server) commit(st *store, typ watch.EventType, obj, old Object) {
	rv, _ := parseRV(obj.GetResourceVersion())
	k := key(obj.GetNamespace(), obj.GetName())
	ev := Event{Type: typ, Kind: st.info.kind, Object: obj, Old: old, RV: rv, Key: k}
	if typ == watch.Deleted {
		delete(st.objects, k)
	} else {
		st.objects[k] = obj
	}
	st.sorted = nil
	st.appendLog(ev, s)
	if len(s.observer) > 0 {
		seen := ev
		seen.Client, seen.Called = s.serving, s.servingCall
		for _, fn := range s.observer {
			fn(seen)
		}
	}
	s.dispatch(st, ev)
}

func (st *store) appendLog(ev Event, s *Server) {
	if st.logHead > 0 && st.logHead >= len(st.log)/2 && len(st.log) == cap(st.log) {
		// Reuse the space of dropped events rather than grow.
		n := copy(st.log, st.log[st.logHead:])
		clear(st.log[n:])
		st.log, st.logHead = st.log[:n], 0
	}
	st.log = append(st.log, ev)
	for st.logHead < len(st.log) && (st.log[st.logHead].RV <= s.compact || len(st.log)-st.logHead > s.cfg.WatchCapacity) {
		st.dropped = max(st.dropped, st.log[st.logHead].RV)
		st.log[st.logHead] = Event{}
		st.logHead++
	}
}

// recent is the kept events, oldest first.
func (st *store) recent() []Event { return st.log[st.logHead:] }

// copyOf returns a private copy of a request's object for the server to own.
func copyOf(obj Object) Object { return obj.DeepCopyObject().(Object) }

func (s *Server) get(st *store, req *Request) *Response {
	if req.Subresource == "scale" {
		return s.getScale(st, req)
	}
	obj, ok := st.objects[key(req.Namespace, req.Name)]
	if !ok {
		return &Response{Err: apierrors.NewNotFound(st.resource(), req.Name)}
	}
	return &Response{Object: obj, ResourceVersion: obj.GetResourceVersion()}
}

func (s *Server) list(st *store, req *Request) *Response {
	keys := make([]string, 0, len(st.objects))
	for k, obj := range st.objects {
		if req.Namespace != "" && obj.GetNamespace() != req.Namespace {
			continue
		}
		if !matches(req, obj) {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	items := make([]Object, len(keys))
	for i, k := range keys {
		items[i] = st.objects[k]
	}
	return &Response{Items: items, ResourceVersion: formatRV(s.rv)}
}

func (s *Server) create(st *store, req *Request) *Response {
	if req.Subresource == "binding" {
		return s.bind(st, req)
	}
	if req.Object == nil {
		return &Response{Err: apierrors.NewBadRequest("create without an object")}
	}
	obj := copyOf(req.Object)
	if st.info.namespaced {
		if obj.GetNamespace() == "" {
			obj.SetNamespace(req.Namespace)
		} else if obj.GetNamespace() != req.Namespace {
			return &Response{Err: apierrors.NewBadRequest("the namespace of the provided object does not match the namespace sent on the request")}
		}
	} else {
		obj.SetNamespace("")
	}
	if obj.GetName() == "" && obj.GetGenerateName() != "" {
		// Retry a few names on collision, as the real server does.
		for i := 0; i < 8; i++ {
			name := obj.GetGenerateName() + s.nameSuffix()
			if _, taken := st.objects[key(obj.GetNamespace(), name)]; !taken {
				obj.SetName(name)
				break
			}
		}
	}
	if st.info.status != nil && st.info.kind != Nodes {
		// Status is the server's and the controllers' to write, not the
		// creator's: the real server resets it on create (but for a Node,
		// which its kubelet registers with its status).
		reflect.ValueOf(st.info.status(obj)).Elem().SetZero()
	}
	if st.info.defaults != nil {
		st.info.defaults(obj)
	}
	if errs := st.info.validate(obj, nil); len(errs) > 0 {
		return &Response{Err: apierrors.NewInvalid(st.groupKind(), obj.GetName(), errs)}
	}
	if _, exists := st.objects[key(obj.GetNamespace(), obj.GetName())]; exists {
		return &Response{Err: apierrors.NewAlreadyExists(st.resource(), obj.GetName())}
	}
	obj.SetUID(s.newUID())
	obj.SetCreationTimestamp(s.now())
	obj.SetDeletionTimestamp(nil)
	obj.SetDeletionGracePeriodSeconds(nil)
	obj.SetGeneration(1)
	obj.SetSelfLink("")
	obj.SetManagedFields(nil)
	obj.SetResourceVersion(formatRV(s.nextRV()))
	s.commit(st, watch.Added, obj, nil)
	return &Response{Object: obj, ResourceVersion: obj.GetResourceVersion()}
}

// update replaces an object (or its status) under optimistic concurrency.
func (s *Server) update(st *store, req *Request) *Response {
	if req.Subresource == "scale" {
		return s.updateScale(st, req)
	}
	if req.Object == nil {
		return &Response{Err: apierrors.NewBadRequest("update without an object")}
	}
	if req.Object.GetName() != "" && req.Object.GetName() != req.Name {
		return &Response{Err: apierrors.NewBadRequest("the name of the object does not match the name on the URL")}
	}
	old, ok := st.objects[key(req.Namespace, req.Name)]
	if !ok {
		return &Response{Err: apierrors.NewNotFound(st.resource(), req.Name)}
	}
	if rv := req.Object.GetResourceVersion(); rv != "" && rv != old.GetResourceVersion() {
		return &Response{Err: conflict(st, req.Name)}
	}
	if uid := req.Object.GetUID(); uid != "" && uid != old.GetUID() {
		return &Response{Err: apierrors.NewConflict(st.resource(), req.Name,
			fmt.Errorf("Precondition failed: UID in precondition: %s, UID in object meta: %s", uid, old.GetUID()))}
	}
	if req.Subresource == "status" {
		obj := st.info.shallow(old)
		st.info.copyStatus(obj, req.Object)
		return s.replaceStatus(st, old, obj)
	}
	return s.replaceSpec(st, old, copyOf(req.Object))
}

// replaceSpec stores obj, old as an update or a patch made it: the status
// stays old's (it changes only through the status subresource), and what the
// request left unset takes its default, as the real server decodes it.
func (s *Server) replaceSpec(st *store, old, obj Object) *Response {
	st.info.shareStatus(obj, old)
	if st.info.defaults != nil {
		st.info.defaults(obj)
	}
	return s.replace(st, old, obj)
}

// replaceStatus stores obj, which differs from old at most in its status.
func (s *Server) replaceStatus(st *store, old, obj Object) *Response {
	if reflect.DeepEqual(st.info.status(obj), st.info.status(old)) {
		return &Response{Object: old, ResourceVersion: old.GetResourceVersion()}
	}
	obj.SetResourceVersion(formatRV(s.nextRV()))
	s.commit(st, watch.Modified, obj, old)
	return &Response{Object: obj, ResourceVersion: obj.GetResourceVersion()}
}

// replace validates and stores obj in place of old: the common tail of update,
// patch and the subresources. A write that changes nothing is not a write.
func (s *Server) replace(st *store, old, obj Object) *Response {
	// Fields the server owns.
	obj.SetNamespace(old.GetNamespace())
	obj.SetUID(old.GetUID())
	obj.SetCreationTimestamp(old.GetCreationTimestamp())
	obj.SetDeletionTimestamp(old.GetDeletionTimestamp())
	obj.SetDeletionGracePeriodSeconds(old.GetDeletionGracePeriodSeconds())
	obj.SetGeneration(old.GetGeneration())
	obj.SetResourceVersion(old.GetResourceVersion())
	obj.SetManagedFields(nil)
	if errs := st.info.validate(obj, old); len(errs) > 0 {
		return &Response{Err: apierrors.NewInvalid(st.groupKind(), obj.GetName(), errs)}
	}
	if old.GetDeletionTimestamp() != nil {
		if extra := newFinalizers(obj.GetFinalizers(), old.GetFinalizers()); len(extra) > 0 {
			return &Response{Err: apierrors.NewInvalid(st.groupKind(), obj.GetName(), fieldErrs{
				field.Forbidden(metaPath.Child("finalizers"), fmt.Sprintf("no new finalizers can be added if the object is being deleted, found new finalizers %q", extra))})}
		}
	}
	if reflect.DeepEqual(obj, old) {
		return &Response{Object: old, ResourceVersion: old.GetResourceVersion()}
	}
	if st.info.spec != nil && !reflect.DeepEqual(st.info.spec(obj), st.info.spec(old)) {
		obj.SetGeneration(old.GetGeneration() + 1)
	}
	obj.SetResourceVersion(formatRV(s.nextRV()))
	// An object being deleted goes once its last finalizer is removed (and, for
	// a pod, once its grace period was cut to zero by the kubelet).
	if obj.GetDeletionTimestamp() != nil && len(obj.GetFinalizers()) == 0 {
		if g := obj.GetDeletionGracePeriodSeconds(); g == nil || *g == 0 {
			s.commit(st, watch.Deleted, obj, old)
			return &Response{Object: obj, ResourceVersion: obj.GetResourceVersion(), gone: true}
		}
	}
	s.commit(st, watch.Modified, obj, old)
	return &Response{Object: obj, ResourceVersion: obj.GetResourceVersion()}
}

func newFinalizers(now, before []string) []string {
	var extra []string
	for _, f := range now {
		found := false
		for _, g := range before {
			found = found || f == g
		}
		if !found {
			extra = append(extra, f)
		}
	}
	return extra
}

func conflict(st *store, name string) error {
	return apierrors.NewConflict(st.resource(), name,
		errors.New("the object has been modified; please apply your changes to the latest version and try again"))
}

// patch applies a JSON merge, strategic merge or JSON patch. A resourceVersion
// or uid the patch sets is a precondition, as with the real server.
func (s *Server) patch(st *store, req *Request) *Response {
	old, ok := st.objects[key(req.Namespace, req.Name)]
	if !ok {
		return &Response{Err: apierrors.NewNotFound(st.resource(), req.Name)}
	}
	if req.Subresource == "scale" {
		var sc autoscalingv1.Scale
		cur := s.scaleOf(st, old)
		if err := applyPatch(req, cur, &sc); err != nil {
			return &Response{Err: err}
		}
		return s.updateScale(st, &Request{Namespace: req.Namespace, Name: req.Name, Scale: &sc})
	}
	obj := st.info.newObj()
	if err := applyPatch(req, old, obj); err != nil {
		return &Response{Err: err}
	}
	if obj.GetResourceVersion() != old.GetResourceVersion() {
		return &Response{Err: conflict(st, req.Name)}
	}
	if obj.GetUID() != old.GetUID() {
		return &Response{Err: apierrors.NewConflict(st.resource(), req.Name,
			fmt.Errorf("Precondition failed: UID in precondition: %s, UID in object meta: %s", obj.GetUID(), old.GetUID()))}
	}
	switch req.Subresource {
	case "status":
		status := obj
		obj = st.info.shallow(old)
		st.info.shareStatus(obj, status) // status was freshly decoded: ours
		return s.replaceStatus(st, old, obj)
	case "":
		return s.replaceSpec(st, old, obj) // a field the patch removed takes its default again
	default:
		return &Response{Err: apierrors.NewBadRequest("cannot patch subresource " + req.Subresource)}
	}
}

func applyPatch(req *Request, cur any, into any) error {
	orig, err := json.Marshal(cur)
	if err != nil {
		return err
	}
	var patched []byte
	switch req.PatchType {
	case types.MergePatchType:
		patched, err = jsonpatch.MergePatch(orig, req.Patch)
	case types.StrategicMergePatchType:
		patched, err = strategicpatch.StrategicMergePatch(orig, req.Patch, into)
	case types.JSONPatchType:
		var p jsonpatch.Patch
		if p, err = jsonpatch.DecodePatch(req.Patch); err == nil {
			patched, err = p.Apply(orig)
		}
	default:
		return apierrors.NewBadRequest("unsupported patch type " + strconv.Quote(string(req.PatchType)))
	}
	if err != nil {
		return apierrors.NewBadRequest(err.Error())
	}
	if err := json.Unmarshal(patched, into); err != nil {
		return apierrors.NewBadRequest(err.Error())
	}
	return nil
}

// delete starts or finishes the deletion of an object: graceful for pods on a
// node, held by finalizers (the garbage collector's orphan and foreground
// finalizers among them), immediate otherwise.
func (s *Server) delete(st *store, req *Request) *Response {
	old, ok := st.objects[key(req.Namespace, req.Name)]
	if !ok {
		return &Response{Err: apierrors.NewNotFound(st.resource(), req.Name)}
	}
	opts := req.Delete
	if opts == nil {
		opts = &metav1.DeleteOptions{}
	}
	if p := opts.Preconditions; p != nil {
		if p.UID != nil && *p.UID != old.GetUID() {
			return &Response{Err: apierrors.NewConflict(st.resource(), req.Name,
				fmt.Errorf("Precondition failed: UID in precondition: %s, UID in object meta: %s", *p.UID, old.GetUID()))}
		}
		if p.ResourceVersion != nil && *p.ResourceVersion != old.GetResourceVersion() {
			return &Response{Err: apierrors.NewConflict(st.resource(), req.Name,
				fmt.Errorf("Precondition failed: ResourceVersion in precondition: %s, ResourceVersion in object meta: %s", *p.ResourceVersion, old.GetResourceVersion()))}
		}
	}
	policy := metav1.DeletePropagationBackground
	if opts.PropagationPolicy != nil {
		policy = *opts.PropagationPolicy
	} else if opts.OrphanDependents != nil && *opts.OrphanDependents {
		policy = metav1.DeletePropagationOrphan
	}
	switch policy {
	case metav1.DeletePropagationBackground, metav1.DeletePropagationForeground, metav1.DeletePropagationOrphan:
	default:
		return &Response{Err: apierrors.NewBadRequest(fmt.Sprintf("propagationPolicy: Unsupported value: %q", policy))}
	}

	grace := int64(0)
	if pod, isPod := old.(*corev1.Pod); isPod {
		grace = podGrace(pod, opts)
	}
	finalizers := old.GetFinalizers()
	explicit := opts.PropagationPolicy != nil || opts.OrphanDependents != nil
	switch policy {
	case metav1.DeletePropagationOrphan:
		finalizers = setFinalizer(finalizers, metav1.FinalizerOrphanDependents, metav1.FinalizerDeleteDependents)
	case metav1.DeletePropagationForeground:
		finalizers = setFinalizer(finalizers, metav1.FinalizerDeleteDependents, metav1.FinalizerOrphanDependents)
	default:
		if explicit {
			// An explicit Background undoes an earlier orphan or foreground
			// delete's finalizer, as the real server does.
			finalizers = withoutFinalizers(finalizers, metav1.FinalizerOrphanDependents, metav1.FinalizerDeleteDependents)
		}
	}
	if grace == 0 && len(finalizers) == 0 {
		// Gone at once (also when it was already being deleted).
		return s.remove(st, old)
	}
	obj := st.info.shallow(old)
	obj.SetFinalizers(finalizers)

	if dt := old.GetDeletionTimestamp(); dt != nil {
		// Already being deleted: a shorter grace period (a force delete) or a
		// changed propagation finalizer is the only thing a second delete does.
		prev := old.GetDeletionGracePeriodSeconds()
		if prev != nil && grace < *prev {
			// As the real server: the deletion moves earlier by the
			// difference, from when the first delete set it.
			obj.SetDeletionGracePeriodSeconds(&grace)
			t := metav1.NewTime(dt.Add(secs(grace - *prev)))
			obj.SetDeletionTimestamp(&t)
		}
		return s.writeDeleting(st, old, obj)
	}
	t := metav1.NewTime(s.now().Add(secs(grace)))
	obj.SetDeletionTimestamp(&t)
	obj.SetDeletionGracePeriodSeconds(&grace)
	return s.writeDeleting(st, old, obj)
}

func (s *Server) writeDeleting(st *store, old, obj Object) *Response {
	if reflect.DeepEqual(obj, old) {
		return &Response{Object: old, ResourceVersion: old.GetResourceVersion()}
	}
	if g := obj.GetDeletionGracePeriodSeconds(); g != nil && *g == 0 && len(obj.GetFinalizers()) == 0 {
		return s.remove(st, old)
	}
	obj.SetResourceVersion(formatRV(s.nextRV()))
	s.commit(st, watch.Modified, obj, old)
	return &Response{Object: obj, ResourceVersion: obj.GetResourceVersion()}
}

// remove takes an object out of storage for good.
func (s *Server) remove(st *store, old Object) *Response {
	obj := st.info.shallow(old)
	obj.SetResourceVersion(formatRV(s.nextRV()))
	s.commit(st, watch.Deleted, obj, old)
	return &Response{Object: obj, ResourceVersion: obj.GetResourceVersion(), gone: true}
}

func secs(n int64) time.Duration { return time.Duration(n) * time.Second }

// podGrace is the grace period of a pod's deletion: the request's, else the
// pod's terminationGracePeriodSeconds; zero for a pod that never reached a node
// or has already finished, since no kubelet has anything to stop.
func podGrace(pod *corev1.Pod, opts *metav1.DeleteOptions) int64 {
	if pod.Spec.NodeName == "" || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return 0
	}
	if opts.GracePeriodSeconds != nil {
		if *opts.GracePeriodSeconds < 0 {
			return 0
		}
		return *opts.GracePeriodSeconds
	}
	if g := pod.Spec.TerminationGracePeriodSeconds; g != nil {
		return *g
	}
	return corev1.DefaultTerminationGracePeriodSeconds
}

func withoutFinalizers(list []string, drop ...string) []string {
	var out []string
	for _, f := range list {
		if !slices.Contains(drop, f) {
			out = append(out, f)
		}
	}
	return out
}

func setFinalizer(list []string, add, remove string) []string {
	out := make([]string, 0, len(list)+1)
	for _, f := range list {
		if f != add && f != remove {
			out = append(out, f)
		}
	}
	return append(out, add)
}

// bind assigns a pod to a node (the pods/binding subresource the scheduler uses).
func (s *Server) bind(st *store, req *Request) *Response {
	old, ok := st.objects[key(req.Namespace, req.Name)]
	if !ok || st.info.kind != Pods {
		return &Response{Err: apierrors.NewNotFound(st.resource(), req.Name)}
	}
	pod := old.(*corev1.Pod)
	if pod.Spec.NodeName != "" {
		return &Response{Err: apierrors.NewConflict(st.resource(), req.Name,
			fmt.Errorf("pod %s is already assigned to node %q", req.Name, pod.Spec.NodeName))}
	}
	if pod.DeletionTimestamp != nil {
		return &Response{Err: apierrors.NewConflict(st.resource(), req.Name, errors.New("pod is being deleted, cannot be assigned to a host"))}
	}
	bound := *pod // shallow: the fields written below are replaced, not mutated
	bound.Status.Conditions = append([]corev1.PodCondition(nil), pod.Status.Conditions...)
	bound.Spec.NodeName = req.Node
	setPodCondition(&bound.Status, corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: s.now()})
	bound.SetResourceVersion(formatRV(s.nextRV()))
	s.commit(st, watch.Modified, &bound, old)
	return &Response{Object: &bound, ResourceVersion: bound.ResourceVersion}
}

func (s *Server) scaleOf(st *store, obj Object) *autoscalingv1.Scale {
	spec, status, sel := st.info.scale.get(obj)
	return &autoscalingv1.Scale{
		TypeMeta: metav1.TypeMeta{APIVersion: "autoscaling/v1", Kind: "Scale"},
		ObjectMeta: metav1.ObjectMeta{Name: obj.GetName(), Namespace: obj.GetNamespace(), UID: obj.GetUID(),
			ResourceVersion: obj.GetResourceVersion(), CreationTimestamp: obj.GetCreationTimestamp()},
		Spec:   autoscalingv1.ScaleSpec{Replicas: spec},
		Status: autoscalingv1.ScaleStatus{Replicas: status, Selector: sel},
	}
}

func (s *Server) getScale(st *store, req *Request) *Response {
	if st.info.scale == nil {
		return &Response{Err: apierrors.NewNotFound(st.resource(), req.Name+"/scale")}
	}
	obj, ok := st.objects[key(req.Namespace, req.Name)]
	if !ok {
		return &Response{Err: apierrors.NewNotFound(st.resource(), req.Name)}
	}
	sc := s.scaleOf(st, obj)
	return &Response{Scale: sc, ResourceVersion: sc.ResourceVersion}
}

// updateScale sets spec.replicas through the scale subresource; a
// resourceVersion on the Scale is a precondition on the parent object.
func (s *Server) updateScale(st *store, req *Request) *Response {
	if st.info.scale == nil {
		return &Response{Err: apierrors.NewNotFound(st.resource(), req.Name+"/scale")}
	}
	old, ok := st.objects[key(req.Namespace, req.Name)]
	if !ok {
		return &Response{Err: apierrors.NewNotFound(st.resource(), req.Name)}
	}
	if req.Scale == nil {
		return &Response{Err: apierrors.NewBadRequest("scale update without a Scale")}
	}
	if rv := req.Scale.ResourceVersion; rv != "" && rv != old.GetResourceVersion() {
		return &Response{Err: conflict(st, req.Name)}
	}
	if req.Scale.Spec.Replicas < 0 {
		return &Response{Err: apierrors.NewInvalid(schema.GroupKind{Group: "autoscaling", Kind: "Scale"}, req.Name,
			fieldErrs{field.Invalid(specPath.Child("replicas"), req.Scale.Spec.Replicas, "must be greater than or equal to 0")})}
	}
	obj := copyOf(old)
	st.info.scale.setSpec(obj, req.Scale.Spec.Replicas)
	resp := s.replace(st, old, obj)
	if resp.Err != nil {
		return resp
	}
	sc := s.scaleOf(st, resp.Object)
	return &Response{Scale: sc, Object: resp.Object, ResourceVersion: sc.ResourceVersion}
}

func setPodCondition(status *corev1.PodStatus, c corev1.PodCondition) {
	for i := range status.Conditions {
		if status.Conditions[i].Type == c.Type {
			if status.Conditions[i].Status != c.Status {
				status.Conditions[i] = c
			}
			return
		}
	}
	status.Conditions = append(status.Conditions, c)
}

func newOp(req *Request) *history.Op {
	op := &history.Op{Client: req.Client, Verb: string(req.Verb), Kind: string(req.Kind), Subresource: req.Subresource}
	ns, name := req.Namespace, req.Name
	if req.Object != nil {
		if ns == "" {
			ns = req.Object.GetNamespace()
		}
		if name == "" {
			name = req.Object.GetName()
		}
	}
	if ns == "" && Namespaced(req.Kind) {
		ns = metav1.NamespaceDefault
	}
	if name != "" {
		op.Key = key(ns, name)
	}
	switch {
	case req.Object != nil:
		op.PreRV, op.PreUID = req.Object.GetResourceVersion(), string(req.Object.GetUID())
	case req.Scale != nil:
		op.PreRV = req.Scale.ResourceVersion
		op.Arg = "replicas=" + strconv.Itoa(int(req.Scale.Spec.Replicas))
	case req.Delete != nil:
		if p := req.Delete.Preconditions; p != nil {
			if p.UID != nil {
				op.PreUID = string(*p.UID)
			}
			if p.ResourceVersion != nil {
				op.PreRV = *p.ResourceVersion
			}
		}
		if p := req.Delete.PropagationPolicy; p != nil {
			op.Arg = "propagation=" + string(*p)
		}
		if g := req.Delete.GracePeriodSeconds; g != nil {
			op.Arg += " grace=" + strconv.FormatInt(*g, 10)
		}
	case req.Node != "":
		op.Arg = "node=" + req.Node
	case req.Patch != nil:
		op.Arg = string(req.Patch)
	case req.LabelSelector != nil && !req.LabelSelector.Empty():
		op.Arg = req.LabelSelector.String()
	}
	return op
}

func recordOutcome(op *history.Op, resp *Response) {
	if resp.Err != nil {
		op.Code = 500
		var status apierrors.APIStatus
		if errors.As(resp.Err, &status) {
			op.Code = int(status.Status().Code)
		}
		op.Error = resp.Err.Error()
		return
	}
	op.Code = 200
	switch {
	case resp.Scale != nil:
		op.RV, op.UID = resp.Scale.ResourceVersion, string(resp.Scale.UID)
		op.Result = "replicas=" + strconv.Itoa(int(resp.Scale.Spec.Replicas))
	case resp.Object != nil:
		op.RV, op.UID = resp.Object.GetResourceVersion(), string(resp.Object.GetUID())
		switch {
		case resp.gone:
			op.Result = "deleted" // by a delete, or by an update removing the last finalizer
		case op.Verb == string(Delete):
			op.Result = "terminating"
		}
		if op.Verb == string(Create) && op.Key == "" {
			op.Key = key(resp.Object.GetNamespace(), resp.Object.GetName())
		}
	case resp.Items != nil || op.Verb == string(List):
		op.RV = resp.ResourceVersion
		op.Result = "items=" + strconv.Itoa(len(resp.Items))
	}
}

// Objects returns the stored objects of a kind in key order, without a
// request, latency or history: the ground truth, for checks. The slice is
// shared until the next change of that kind; do not modify it or its objects.
func (s *Server) Objects(kind Kind) []Object {
	st := s.stores[kind]
	if st == nil {
		return nil
	}
	if st.sorted == nil {
		keys := make([]string, 0, len(st.objects))
		for k := range st.objects {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		st.sorted = make([]Object, len(keys))
		for i, k := range keys {
			st.sorted[i] = st.objects[k]
		}
	}
	return st.sorted
}
