package host

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
)

// stream is a watch response's body: the World appends encoded watch events,
// the hosted reflector reads them. Appending never blocks the World.
type stream struct {
	h     *Host
	ctx   context.Context
	key   string
	wt    *apiserver.Watcher // the World's side
	ready chan struct{}      // made in the bubble: a reader waits durably

	mu     sync.Mutex
	buf    bytes.Buffer
	eof    bool
	closed bool
}

func newStream(h *Host, ctx context.Context) *stream {
	return &stream{h: h, ctx: ctx, ready: make(chan struct{}, 1)}
}

func (s *stream) signal() {
	select {
	case s.ready <- struct{}{}:
	default:
	}
}

func (s *stream) Read(p []byte) (int, error) {
	for {
		s.mu.Lock()
		if s.buf.Len() > 0 {
			n, _ := s.buf.Read(p)
			s.mu.Unlock()
			return n, nil
		}
		if s.eof || s.closed {
			s.mu.Unlock()
			return 0, io.EOF
		}
		s.mu.Unlock()
		select {
		case <-s.ready:
		case <-s.ctx.Done():
			return 0, s.ctx.Err()
		}
	}
}

// Close is the client hanging up: the World stops the watch when hosted code
// next settles.
func (s *stream) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.signal()
	s.h.enqueue(&call{stop: s})
	return nil
}

func (s *stream) push(b []byte) {
	s.mu.Lock()
	s.buf.Write(b)
	s.buf.WriteByte('\n')
	s.mu.Unlock()
	s.signal()
}

func (s *stream) end() {
	s.mu.Lock()
	s.eof = true
	s.mu.Unlock()
	s.signal()
}

// openWatch starts the watch of c on the API server and answers c with the
// stream its events will arrive on. The watch is the controller's: faults
// that delay or drop its watches reach it.
func (h *Host) openWatch(c *call) {
	st := c.st
	st.key = c.rc.key
	h.streams = append(h.streams, st)
	opts := *c.rc.watch
	if opts.Delay == nil {
		// A stale cache (a watch-delay fault) reaches the watches the
		// controller opens while it lasts, as its informers' do.
		opts.Delay = h.ctx.WatchDelay
	}
	if c.rc.initialEvents {
		// The state now, as ADDED events in key order, then a bookmark that
		// says the initial events are over; the watch goes on from there.
		list := h.api.Serve(&apiserver.Request{Client: opts.Client, Verb: apiserver.List, Kind: opts.Kind,
			Namespace: opts.Namespace, LabelSelector: opts.Labels, FieldSelector: opts.Fields})
		if list.Err != nil {
			h.deliver(func() { c.done <- errorResponse(c.hr, list.Err) })
			return
		}
		for _, o := range list.Items {
			st.push(watchEvent(watch.Added, o))
		}
		st.push(initialEventsEnd(opts.Kind, list.ResourceVersion))
		opts.ResourceVersion = list.ResourceVersion
	}
	st.wt = h.api.Watch(opts, func(ev apiserver.Event) {
		h.deliver(func() { st.event(ev) })
	})
	h.ctx.AddWatcher(st.wt)
	h.deliver(func() {
		resp := jsonResponse(c.hr, http.StatusOK, nil)
		resp.Body, resp.ContentLength = st, -1
		c.done <- resp
	})
}

// event writes one watch event the way the API server streams it. A watch
// the server ends with an error it explains (410 Gone, a timeout) ends with
// an ERROR event; a dropped or stopped one just ends.
func (st *stream) event(ev apiserver.Event) {
	if ev.Type == watch.Error {
		if status, ok := ev.Err.(apierrors.APIStatus); ok && ev.Err != nil && status.Status().Code != 500 {
			s := status.Status()
			s.TypeMeta = metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}
			st.push(watchEvent(watch.Error, &s))
		}
		st.end()
		st.h.streams = deleteStream(st.h.streams, st)
		return
	}
	st.push(watchEvent(ev.Type, ev.Object))
}

func watchEvent(typ watch.EventType, obj runtime.Object) []byte {
	b, _ := json.Marshal(&metav1.WatchEvent{Type: string(typ), Object: runtime.RawExtension{Raw: encodeObject(obj)}})
	return b
}

// initialEventsEnd is the bookmark that ends a watch-list's initial events.
func initialEventsEnd(kind apiserver.Kind, rv string) []byte {
	obj := apiserver.NewObject(kind)
	obj.SetResourceVersion(rv)
	obj.SetAnnotations(map[string]string{metav1.InitialEventsAnnotationKey: "true"})
	return watchEvent(watch.Bookmark, obj)
}

func deleteStream(list []*stream, st *stream) []*stream {
	for i, x := range list {
		if x == st {
			return append(list[:i], list[i+1:]...)
		}
	}
	return list
}
