package cluster

import (
	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"k8s.io/apimachinery/pkg/types"
)

// rmw is one read-modify-write of an object through the API, as controllers
// do it: mutate a copy of the cached object and update it with that object's
// resourceVersion; on 409 GET the object and try again; on 404 (or when the
// object was replaced by another with the same name) give up; on any other
// error wait a second and start over from a GET.
type rmw struct {
	api    *apiserver.Server
	client string
	kind   apiserver.Kind
	ns     string
	name   string
	sub    string    // "" or "status"
	uid    types.UID // if set, only this incarnation is written
	// mutate changes obj (a private copy) and reports whether there is anything
	// to write.
	mutate func(obj apiserver.Object) bool
	// done gets the object written (or the current one, when mutate had
	// nothing to do); nil when the object is gone. Optional.
	done func(obj apiserver.Object)
	// alive, if set, is asked before every step: false abandons the write (the
	// actor was stopped).
	alive func() bool
}

func (u *rmw) finish(obj apiserver.Object) {
	if u.done != nil {
		u.done(obj)
	}
}

// run starts from cur (nil: from a GET).
func (u *rmw) run(cur apiserver.Object) {
	if u.alive != nil && !u.alive() {
		return
	}
	if cur == nil {
		u.get()
		return
	}
	if u.uid != "" && cur.GetUID() != u.uid {
		u.finish(nil)
		return
	}
	obj := cur.DeepCopyObject().(apiserver.Object)
	if !u.mutate(obj) {
		u.finish(cur)
		return
	}
	u.api.Do(&apiserver.Request{Client: u.client, Verb: apiserver.Update, Kind: u.kind, Namespace: u.ns, Name: u.name,
		Subresource: u.sub, Object: obj}, func(resp *apiserver.Response) {
		switch {
		case resp.Err == nil:
			u.finish(resp.Object)
		case isConflict(resp.Err):
			u.get()
		case isNotFound(resp.Err):
			u.finish(nil)
		default:
			u.api.World().After(retryDelay, u.get)
		}
	})
}

func (u *rmw) get() {
	if u.alive != nil && !u.alive() {
		return
	}
	u.api.Do(&apiserver.Request{Client: u.client, Verb: apiserver.Get, Kind: u.kind, Namespace: u.ns, Name: u.name}, func(resp *apiserver.Response) {
		switch {
		case resp.Err == nil:
			u.run(resp.Object)
		case isNotFound(resp.Err):
			u.finish(nil)
		default:
			u.api.World().After(retryDelay, u.get)
		}
	})
}
