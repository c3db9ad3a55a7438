// Package apiserver is the simulated Kubernetes API server: a store of
// k8s.io/api objects with one global resourceVersion, the real server's
// defaulting, validation and optimistic concurrency, finalizers and graceful
// deletion, watches from a resourceVersion (410 Gone once compacted), and the
// scale and binding subresources. Every request takes virtual time: it commits
// at one instant and its response reaches the caller later; each watcher sees
// the commit after its own delay. Every request is recorded in the history.
package apiserver

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/history"
	"github.com/ctrlsim/ctrlsim/harness/sim"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
)

// Verb is an API verb.
type Verb string

// The verbs. Subresources (status, scale, binding) are a field of the Request.
const (
	Get    Verb = "get"
	List   Verb = "list"
	Watch  Verb = "watch"
	Create Verb = "create"
	Update Verb = "update"
	Patch  Verb = "patch"
	Delete Verb = "delete"
)

// Dist is a latency distribution: uniform between Min and Max.
type Dist struct {
	Min time.Duration `json:"min"`
	Max time.Duration `json:"max"`
}

// Fixed is a distribution that always gives d.
func Fixed(d time.Duration) Dist { return Dist{Min: d, Max: d} }

// Sample draws one value.
func (d Dist) Sample(r *rand.Rand) time.Duration {
	if d.Max <= d.Min {
		return d.Min
	}
	return d.Min + time.Duration(r.Int64N(int64(d.Max-d.Min)+1))
}

// Config is how the API server behaves in time.
type Config struct {
	// Latency of a request from call to response, per verb; the write commits
	// halfway. Verbs not listed use DefaultLatency.
	Latency        map[Verb]Dist
	DefaultLatency Dist
	// WatchDelay is how long after a commit a watcher receives the event,
	// unless the watcher asks for its own delay.
	WatchDelay Dist
	// WatchWindow and WatchCapacity bound the events kept for watches that start
	// from an old resourceVersion (the watch cache); older ones get 410 Gone.
	WatchWindow   time.Duration
	WatchCapacity int
	// KeepHistory retains every operation for checks and history.jsonl; turn it
	// off only for benchmarks at scale (the digest is kept either way).
	KeepHistory bool
}

// DefaultConfig is a healthy cluster: a few milliseconds per request and a few
// milliseconds of watch delay.
func DefaultConfig() Config {
	return Config{
		DefaultLatency: Dist{Min: 2 * time.Millisecond, Max: 8 * time.Millisecond},
		Latency: map[Verb]Dist{
			List: {Min: 5 * time.Millisecond, Max: 20 * time.Millisecond},
		},
		WatchDelay:    Dist{Min: 1 * time.Millisecond, Max: 10 * time.Millisecond},
		WatchWindow:   75 * time.Second,
		WatchCapacity: 100 * 1024,
		KeepHistory:   true,
	}
}

// Request is one API call.
type Request struct {
	Client      string // the actor making the call, as recorded in the history
	Verb        Verb
	Kind        Kind
	Namespace   string
	Name        string
	Subresource string // "", "status", "scale" or "binding"

	Object Object               // create, update
	Scale  *autoscalingv1.Scale // update of the scale subresource
	Node   string               // create of the binding subresource: the target node

	PatchType types.PatchType // patch
	Patch     []byte

	Delete *metav1.DeleteOptions // delete

	// List and watch.
	LabelSelector   labels.Selector
	FieldSelector   fields.Selector
	ResourceVersion string // watch (and list) from this resourceVersion
}

// Response is the answer to a Request. Objects in it are shared with the
// server's store and watch caches: do not modify them.
type Response struct {
	Object          Object
	Items           []Object
	Scale           *autoscalingv1.Scale
	ResourceVersion string
	Err             error

	gone bool // a delete took the object out of storage
}

// Interceptor lets fault injection touch requests: extra latency, an error
// instead of the real answer (before or after the commit), or a lost response.
type Interceptor interface {
	Intercept(req *Request) Interception
}

// Interception is what an Interceptor decided for one request.
type Interception struct {
	ExtraLatency time.Duration
	// Reject answers with this error without committing (a 429, a 500).
	Reject error
	// LoseResponse commits the request but the client never hears back: its
	// call ends after Timeout with a timeout error (the ambiguous write).
	LoseResponse bool
	Timeout      time.Duration
	// Rewrite replaces the answer the server gives (after it applied the
	// request): a lagging replica serving a stale read, say. The history
	// records the rewritten answer, as the client saw it.
	Rewrite func(req *Request, resp *Response) *Response
}

// Chain combines interceptors: latencies add up, the first rejection wins,
// a lost response is lost, rewrites apply in order. Nil ones are skipped.
func Chain(ics ...Interceptor) Interceptor {
	var out chain
	for _, ic := range ics {
		if ic != nil {
			out = append(out, ic)
		}
	}
	switch len(out) {
	case 0:
		return nil
	case 1:
		return out[0]
	}
	return out
}

type chain []Interceptor

func (c chain) Intercept(req *Request) Interception {
	var sum Interception
	for _, ic := range c {
		x := ic.Intercept(req)
		sum.ExtraLatency += x.ExtraLatency
		if sum.Reject == nil && !sum.LoseResponse {
			sum.Reject = x.Reject
		}
		if sum.Reject == nil && x.LoseResponse {
			sum.LoseResponse, sum.Timeout = true, max(sum.Timeout, x.Timeout)
		}
		if x.Rewrite != nil {
			if prev := sum.Rewrite; prev != nil {
				next := x.Rewrite
				sum.Rewrite = func(req *Request, resp *Response) *Response { return next(req, prev(req, resp)) }
			} else {
				sum.Rewrite = x.Rewrite
			}
		}
	}
	return sum
}

// Server is the simulated API server.
type Server struct {
	w        *sim.World
	cfg      Config
	rec      *history.Recorder
	rv       uint64
	stores   map[Kind]*store
	names    *rand.Rand
	uids     *rand.Rand
	commits  []commitMark // commit times, for compaction
	compact  uint64       // resourceVersions up to this one are compacted
	observer []func(Event)
	serving  string // the client whose request is being applied
	// servingCall is when that request was sent (Do), or now (Serve).
	servingCall time.Duration
	inDo        bool
	latRand     map[string]*rand.Rand // each client's latency stream, by client

	watchSeq       uint64
	watchObservers []func(WatchNotice)

	Interceptor Interceptor
	// WatchFault, if set, sees every event on its way to a watcher and may
	// drop it (returns true): a lossy watch, for fault injection.
	WatchFault func(w *Watcher, ev Event) bool
	// Metrics is the resource metrics API (metrics.k8s.io) the autoscalers
	// read; nil serves no metrics.
	Metrics MetricsSource
}

type commitMark struct {
	rv uint64
	at time.Duration
}

// New returns an empty API server on the world w.
func New(w *sim.World, cfg Config) *Server {
	s := &Server{
		w: w, cfg: cfg, rec: history.NewRecorder(cfg.KeepHistory),
		stores: map[Kind]*store{}, latRand: map[string]*rand.Rand{},
		names: w.Rand("apiserver/names"), uids: w.Rand("apiserver/uids"),
	}
	for _, k := range Kinds {
		s.stores[k] = newStore(kindInfos[k])
	}
	// Like etcd, the store starts at a revision above zero: a list of an empty
	// store returns "1", and a watch from it misses nothing. ("0" would mean
	// "from whatever is current" to a watch.)
	s.rv = 1
	return s
}

// Config is the server's configuration.
func (s *Server) Config() Config { return s.cfg }

// World is the simulation the server runs in.
func (s *Server) World() *sim.World { return s.w }

// History is the recorder of every request so far.
func (s *Server) History() *history.Recorder { return s.rec }

// ResourceVersion is the current global resourceVersion.
func (s *Server) ResourceVersion() uint64 { return s.rv }

// OnCommit registers fn to see every committed write, synchronously at the
// instant of the commit (for invariant checks; fn must not modify anything).
func (s *Server) OnCommit(fn func(Event)) { s.observer = append(s.observer, fn) }

func (s *Server) latency(req *Request) time.Duration {
	d, ok := s.cfg.Latency[req.Verb]
	if !ok {
		d = s.cfg.DefaultLatency
	}
	r := s.latRand[req.Client]
	if r == nil {
		r = s.w.Rand("apiserver/latency/" + req.Client)
		s.latRand[req.Client] = r
	}
	return d.Sample(r)
}

// Do sends req; done is called (as an event handler) when the response reaches
// the client. The request commits at the server halfway through its latency.
func (s *Server) Do(req *Request, done func(*Response)) {
	if req.Verb == Watch {
		panic("apiserver: use Server.Watch for watches")
	}
	op := s.rec.Begin(newOp(req), s.w.Elapsed())
	lat := s.latency(req)
	var ic Interception
	if s.Interceptor != nil {
		ic = s.Interceptor.Intercept(req)
	}
	lat += ic.ExtraLatency
	s.w.After(lat/2, func() {
		var resp *Response
		if ic.Reject != nil {
			resp = &Response{Err: ic.Reject}
			op.Injected = true
		} else {
			s.inDo, s.servingCall = true, op.Call.Time
			resp = s.Serve(req)
			s.inDo = false
		}
		if ic.Rewrite != nil {
			resp = ic.Rewrite(req, resp)
		}
		c := s.rec.Stamp(s.w.Elapsed())
		op.Commit = &c
		recordOutcome(op, resp)
		if ic.LoseResponse {
			timeout := ic.Timeout
			if timeout <= 0 {
				timeout = 60 * time.Second
			}
			s.w.After(timeout, func() { done(&Response{Err: errTimeout(req)}) })
			return
		}
		s.w.After(lat-lat/2, func() {
			r := s.rec.Stamp(s.w.Elapsed())
			op.Return = &r
			done(resp)
		})
	})
}

// Serve applies req at once, without latency or history: the commit step of Do,
// and a way for tests to set up state.
func (s *Server) Serve(req *Request) *Response {
	s.serving = req.Client
	if !s.inDo {
		s.servingCall = s.w.Elapsed()
	}
	st, ok := s.stores[req.Kind]
	if !ok {
		return &Response{Err: fmt.Errorf("the server could not find the requested resource (kind %q)", req.Kind)}
	}
	if st.info.namespaced && req.Namespace == "" && req.Verb != List {
		req.Namespace = metav1.NamespaceDefault
	}
	switch req.Verb {
	case Get:
		return s.get(st, req)
	case List:
		return s.list(st, req)
	case Create:
		return s.create(st, req)
	case Update:
		return s.update(st, req)
	case Patch:
		return s.patch(st, req)
	case Delete:
		return s.delete(st, req)
	}
	return &Response{Err: fmt.Errorf("unsupported verb %q", req.Verb)}
}

func (s *Server) now() metav1.Time { return Timestamp(s.w) }

// Timestamp is the current virtual time as an object timestamp. The real API
// server stores timestamps with one-second precision, so these are truncated
// to the second: controllers that compare times see what they would see.
func Timestamp(w *sim.World) metav1.Time { return metav1.NewTime(w.Now().Truncate(time.Second)) }

func (s *Server) nextRV() uint64 {
	s.rv++
	s.commits = append(s.commits, commitMark{rv: s.rv, at: s.w.Elapsed()})
	s.compactOld()
	return s.rv
}

// compactOld forgets commits older than the watch window (amortized O(1)).
func (s *Server) compactOld() {
	cut := s.w.Elapsed() - s.cfg.WatchWindow
	i := 0
	for i < len(s.commits) && s.commits[i].at < cut {
		s.compact = s.commits[i].rv
		i++
	}
	if i > 0 && i >= len(s.commits)/2 {
		s.commits = append(s.commits[:0], s.commits[i:]...)
	} else if i > 0 {
		s.commits = s.commits[i:]
	}
}

func formatRV(rv uint64) string { return strconv.FormatUint(rv, 10) }

func parseRV(v string) (uint64, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, errors.New("invalid resourceVersion " + strconv.Quote(v))
	}
	return n, nil
}

func key(ns, name string) string {
	if ns == "" {
		return name
	}
	return ns + "/" + name
}

// newUID draws a version-4 UUID from the server's own stream.
func (s *Server) newUID() types.UID {
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		v := s.uids.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return types.UID(fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]))
}

// nameSuffix is what the real server appends to generateName: five characters
// from an alphabet without vowels (no words, no confusable characters).
func (s *Server) nameSuffix() string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	var b [5]byte
	for i := range b {
		b[i] = alphabet[s.names.IntN(len(alphabet))]
	}
	return string(b[:])
}

// errTimeout is what a client sees when its response was lost: a server
// timeout, with no way to tell whether the request took effect.
func errTimeout(req *Request) error {
	return apierrors.NewTimeoutError(fmt.Sprintf("the %s of %s %q did not answer in time; it may or may not have taken effect", req.Verb, req.Kind, req.Name), 0)
}
