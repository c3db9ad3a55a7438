package apiserver

import (
	"fmt"
	"math/rand/v2"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/watch"
)

// WatchOptions start a watch.
type WatchOptions struct {
	Client    string
	Kind      Kind
	Namespace string // "" for all namespaces
	Labels    labels.Selector
	// Fields supports metadata.name, metadata.namespace and, for pods,
	// spec.nodeName (the kubelet's watch), as the real server does.
	Fields fields.Selector
	// ResourceVersion to start after; "" or "0" starts at the current version.
	ResourceVersion string
	// Delay overrides the server's WatchDelay for this watcher (a stale cache).
	Delay *Dist
}

// Watcher is an open watch. Events reach its handler in resourceVersion order,
// each after the watcher's delay; when the watch ends (Stop, Drop or a 410 at
// the start) the handler gets one Error event and nothing more.
type Watcher struct {
	s        *Server
	st       *store
	opts     WatchOptions
	handler  func(Event)
	node     string // spec.nodeName this watcher is indexed under ("" if not)
	byNode   bool
	lastAt   time.Duration // virtual time of the last scheduled delivery (FIFO)
	closed   bool
	Received uint64 // events delivered so far

	delay Dist
	rand  *rand.Rand // the client's watch-delay stream
	// Events offered and not yet delivered, in order. Deliveries are FIFO (each
	// is due no earlier than the one before and was scheduled after it), so
	// each delivery event takes the head: no closure per event.
	pending []Event
	head    int
	deliver func() // deliverNext, bound once
	id      uint64
}

// WatchNotice tells a watch observer what a watcher did: it started (from
// StartRV: events after it are due), delivered an event, or ended.
type WatchNotice struct {
	Watcher *Watcher
	What    string // "start", "event" or "end"
	StartRV uint64
	Event   Event
}

// OnWatch registers fn to see every watcher start, deliver and end (for the
// watch-guarantee check; fn must not modify anything).
func (s *Server) OnWatch(fn func(WatchNotice)) { s.watchObservers = append(s.watchObservers, fn) }

func (s *Server) noticeWatch(n WatchNotice) {
	for _, fn := range s.watchObservers {
		fn(n)
	}
}

// ID numbers watchers in the order they were opened.
func (wt *Watcher) ID() uint64 { return wt.id }

// Options are the watch's options.
func (wt *Watcher) Options() WatchOptions { return wt.opts }

// Matches reports whether obj passes the watch's namespace, label and field
// selectors.
func (wt *Watcher) Matches(obj Object) bool { return wt.matches(obj) }

// Watch opens a watch. The server answers after the watch verb's latency; from
// then on committed events are delivered to handler. Watching from a
// resourceVersion that has been compacted ends at once with 410 Gone.
func (s *Server) Watch(opts WatchOptions, handler func(Event)) *Watcher {
	st := s.stores[opts.Kind]
	wt := &Watcher{s: s, st: st, opts: opts, handler: handler, delay: s.cfg.WatchDelay,
		rand: s.w.Rand("apiserver/watch/" + opts.Client)}
	if opts.Delay != nil {
		wt.delay = *opts.Delay
	}
	wt.deliver = wt.deliverNext
	s.watchSeq++
	wt.id = s.watchSeq
	if opts.Labels == nil {
		wt.opts.Labels = labels.Everything()
	}
	if opts.Fields == nil {
		wt.opts.Fields = fields.Everything()
	}
	op := s.rec.Begin(newOp(&Request{Client: opts.Client, Verb: Watch, Kind: opts.Kind, Namespace: opts.Namespace,
		LabelSelector: opts.Labels, ResourceVersion: opts.ResourceVersion}), s.w.Elapsed())
	op.PreRV = opts.ResourceVersion
	lat := s.latency(&Request{Client: opts.Client, Verb: Watch})
	s.w.After(lat, func() {
		c := s.rec.Stamp(s.w.Elapsed())
		op.Commit, op.Return = &c, &c
		if wt.closed {
			op.Code = 499
			return
		}
		if st == nil {
			op.Code = 404
			wt.end(fmt.Errorf("the server could not find the requested resource (kind %q)", opts.Kind))
			return
		}
		from, err := parseRV(opts.ResourceVersion)
		if err != nil {
			op.Code = 400
			wt.end(apierrors.NewBadRequest(err.Error()))
			return
		}
		if from > s.rv {
			// The real server waits a while, then gives up the same way.
			err := apierrors.NewTimeoutError(fmt.Sprintf("Too large resource version: %d, current: %d", from, s.rv), 1)
			op.Code, op.Error = 504, err.Error()
			wt.end(err)
			return
		}
		// Too old: compacted, or older than what the watch cache still holds
		// for this kind (it keeps a bounded number of events).
		if oldest := max(s.compact, st.dropped); from != 0 && from < oldest {
			err := apierrors.NewResourceExpired(fmt.Sprintf("too old resource version: %d (%d)", from, oldest+1))
			op.Code, op.Error = 410, err.Error()
			wt.end(err)
			return
		}
		op.Code, op.RV = 200, formatRV(s.rv)
		start := s.rv
		if from != 0 {
			start = from
		}
		s.noticeWatch(WatchNotice{Watcher: wt, What: "start", StartRV: start})
		if from != 0 {
			for _, ev := range st.recent() {
				if ev.RV > from {
					wt.offer(ev)
				}
			}
		}
		wt.register()
	})
	return wt
}

func (wt *Watcher) register() {
	st := wt.st
	if st.info.kind == Pods {
		if node, ok := wt.opts.Fields.RequiresExactMatch("spec.nodeName"); ok {
			wt.node, wt.byNode = node, true
			st.byNode[node] = append(st.byNode[node], wt)
			return
		}
	}
	st.watchers = append(st.watchers, wt)
}

// Stop ends the watch from the client's side.
func (wt *Watcher) Stop() { wt.end(nil) }

// Drop ends the watch from the server's side (a dropped connection): the
// handler gets an Error event and the client is expected to watch again.
func (wt *Watcher) Drop(err error) { wt.end(err) }

// SetDelay changes how long the watcher's next events take to arrive (a
// stale cache, for fault injection). Delivery stays in order: an event never
// overtakes one offered before it.
func (wt *Watcher) SetDelay(d Dist) { wt.delay = d }

// Closed reports whether the watch has ended.
func (wt *Watcher) Closed() bool { return wt.closed }

func (wt *Watcher) end(err error) {
	if wt.closed {
		return
	}
	wt.closed = true
	wt.unregister()
	wt.s.noticeWatch(WatchNotice{Watcher: wt, What: "end"})
	if err != nil {
		h := wt.handler
		wt.s.w.At(wt.s.w.Elapsed(), func() { h(Event{Type: watch.Error, Kind: wt.opts.Kind, Err: err}) })
	}
}

func (wt *Watcher) unregister() {
	st := wt.st
	if st == nil {
		return
	}
	list := &st.watchers
	if wt.byNode {
		l := st.byNode[wt.node]
		list = &l
		defer func() {
			if len(l) == 0 {
				delete(st.byNode, wt.node)
			} else {
				st.byNode[wt.node] = l
			}
		}()
	}
	for i, x := range *list {
		if x == wt {
			*list = append((*list)[:i], (*list)[i+1:]...)
			return
		}
	}
}

// dispatch offers a committed event to every watcher that may care.
func (s *Server) dispatch(st *store, ev Event) {
	for _, wt := range st.watchers {
		wt.offer(ev)
	}
	if len(st.byNode) == 0 {
		return
	}
	newNode := ev.Object.(*corev1.Pod).Spec.NodeName
	for _, wt := range st.byNode[newNode] {
		wt.offer(ev)
	}
	if ev.Old != nil {
		if oldNode := ev.Old.(*corev1.Pod).Spec.NodeName; oldNode != newNode {
			for _, wt := range st.byNode[oldNode] {
				wt.offer(ev)
			}
		}
	}
}

// offer filters an event for this watcher, as the real watch cache does: an
// object that starts matching is Added, one that stops matching is Deleted.
func (wt *Watcher) offer(ev Event) {
	if wt.closed {
		return
	}
	newOK := ev.Type != watch.Deleted && wt.matches(ev.Object)
	oldOK := false
	switch ev.Type {
	case watch.Deleted:
		oldOK = wt.matches(ev.Object)
	case watch.Modified:
		oldOK = ev.Old != nil && wt.matches(ev.Old)
	}
	out := ev
	out.Client = ""
	switch {
	case newOK && oldOK:
		out.Type = watch.Modified
	case newOK:
		out.Type = watch.Added
	case oldOK:
		out.Type = watch.Deleted
	default:
		return
	}
	if f := wt.s.WatchFault; f != nil && f(wt, out) {
		return // a fault dropped the event on its way to this watcher
	}
	w := wt.s.w
	at := w.Elapsed() + wt.delay.Sample(wt.rand)
	if at < wt.lastAt {
		at = wt.lastAt
	}
	wt.lastAt = at
	wt.push(out)
	w.At(at, wt.deliver)
}

func (wt *Watcher) push(ev Event) {
	if wt.head > 0 && wt.head >= len(wt.pending)/2 && len(wt.pending) == cap(wt.pending) {
		// Reuse the space of delivered events rather than grow.
		n := copy(wt.pending, wt.pending[wt.head:])
		clear(wt.pending[n:])
		wt.pending, wt.head = wt.pending[:n], 0
	}
	wt.pending = append(wt.pending, ev)
}

// deliverNext hands the oldest pending event to the handler (unless the watch
// has ended meanwhile).
func (wt *Watcher) deliverNext() {
	ev := wt.pending[wt.head]
	wt.pending[wt.head] = Event{}
	wt.head++
	if wt.head == len(wt.pending) {
		wt.pending, wt.head = wt.pending[:0], 0
	}
	if wt.closed {
		return
	}
	wt.Received++
	if len(wt.s.watchObservers) > 0 {
		wt.s.noticeWatch(WatchNotice{Watcher: wt, What: "event", Event: ev})
	}
	wt.handler(ev)
}

func (wt *Watcher) matches(obj Object) bool {
	if wt.opts.Namespace != "" && obj.GetNamespace() != wt.opts.Namespace {
		return false
	}
	if !wt.opts.Labels.Empty() && !wt.opts.Labels.Matches(labels.Set(obj.GetLabels())) {
		return false
	}
	if wt.byNode {
		if obj.(*corev1.Pod).Spec.NodeName != wt.node {
			return false
		}
	} else if !wt.opts.Fields.Empty() && !wt.opts.Fields.Matches(objectFields(obj)) {
		return false
	}
	return true
}

func objectFields(obj Object) fields.Set {
	set := fields.Set{"metadata.name": obj.GetName(), "metadata.namespace": obj.GetNamespace()}
	if pod, ok := obj.(*corev1.Pod); ok {
		set["spec.nodeName"] = pod.Spec.NodeName
		set["status.phase"] = string(pod.Status.Phase)
	}
	return set
}

// matches applies a list request's selectors.
func matches(req *Request, obj Object) bool {
	if req.LabelSelector != nil && !req.LabelSelector.Empty() && !req.LabelSelector.Matches(labels.Set(obj.GetLabels())) {
		return false
	}
	if req.FieldSelector != nil && !req.FieldSelector.Empty() && !req.FieldSelector.Matches(objectFields(obj)) {
		return false
	}
	return true
}
