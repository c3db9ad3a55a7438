package controller

import (
	"fmt"
	"runtime/debug"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
)

// Client is a blocking API client, for use inside a controller's coroutines.
// Each call takes the virtual time the server's latency says. Objects it
// returns are the caller's own copies, as with a real client.
type Client struct {
	ctx  *Context
	name string
}

// Do sends a request and waits for the response. The response's objects are
// shared with the server: copy before modifying.
func (c *Client) Do(req *apiserver.Request) *apiserver.Response {
	w := c.ctx.w
	p := w.Current()
	if p == nil {
		panic(fmt.Sprintf("controller %s: an API call outside a coroutine (from an event handler?): %s %s %s", c.name, req.Verb, req.Kind, req.Name))
	}
	req.Client = c.name
	var resp *apiserver.Response
	c.ctx.api.Do(req, func(r *apiserver.Response) {
		resp = r
		w.Wake(p)
	})
	w.Park()
	return resp
}

func own(obj apiserver.Object) apiserver.Object {
	if obj == nil {
		return nil
	}
	return obj.DeepCopyObject().(apiserver.Object)
}

func (c *Client) object(req *apiserver.Request) (apiserver.Object, error) {
	resp := c.Do(req)
	if resp.Err != nil {
		return nil, resp.Err
	}
	return own(resp.Object), nil
}

// Get reads one object (a quorum read: the current state, not a cache).
func (c *Client) Get(kind apiserver.Kind, namespace, name string) (apiserver.Object, error) {
	return c.object(&apiserver.Request{Verb: apiserver.Get, Kind: kind, Namespace: namespace, Name: name})
}

// List reads the objects of a kind in a namespace ("" for all) that match sel
// (nil for all), in key order, and the list's resourceVersion.
func (c *Client) List(kind apiserver.Kind, namespace string, sel labels.Selector) ([]apiserver.Object, string, error) {
	resp := c.Do(&apiserver.Request{Verb: apiserver.List, Kind: kind, Namespace: namespace, LabelSelector: sel})
	if resp.Err != nil {
		return nil, "", resp.Err
	}
	out := make([]apiserver.Object, len(resp.Items))
	for i, o := range resp.Items {
		out[i] = own(o)
	}
	return out, resp.ResourceVersion, nil
}

// Create creates obj in its namespace (default if empty).
func (c *Client) Create(obj apiserver.Object) (apiserver.Object, error) {
	return c.object(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.KindOf(obj), Namespace: obj.GetNamespace(), Object: obj})
}

// Update replaces obj; a non-empty resourceVersion is a precondition (409 on a
// stale one).
func (c *Client) Update(obj apiserver.Object) (apiserver.Object, error) {
	return c.object(&apiserver.Request{Verb: apiserver.Update, Kind: apiserver.KindOf(obj), Namespace: obj.GetNamespace(), Name: obj.GetName(), Object: obj})
}

// UpdateStatus replaces obj's status through the status subresource.
func (c *Client) UpdateStatus(obj apiserver.Object) (apiserver.Object, error) {
	return c.object(&apiserver.Request{Verb: apiserver.Update, Kind: apiserver.KindOf(obj), Namespace: obj.GetNamespace(), Name: obj.GetName(), Subresource: "status", Object: obj})
}

// Patch applies a patch to an object (subresource "" or "status").
func (c *Client) Patch(kind apiserver.Kind, namespace, name string, pt types.PatchType, data []byte, subresource string) (apiserver.Object, error) {
	return c.object(&apiserver.Request{Verb: apiserver.Patch, Kind: kind, Namespace: namespace, Name: name, PatchType: pt, Patch: data, Subresource: subresource})
}

// Delete deletes an object; opts may be nil.
func (c *Client) Delete(kind apiserver.Kind, namespace, name string, opts *metav1.DeleteOptions) error {
	return c.Do(&apiserver.Request{Verb: apiserver.Delete, Kind: kind, Namespace: namespace, Name: name, Delete: opts}).Err
}

// GetScale reads the scale subresource.
func (c *Client) GetScale(kind apiserver.Kind, namespace, name string) (*autoscalingv1.Scale, error) {
	resp := c.Do(&apiserver.Request{Verb: apiserver.Get, Kind: kind, Namespace: namespace, Name: name, Subresource: "scale"})
	if resp.Err != nil {
		return nil, resp.Err
	}
	return resp.Scale.DeepCopy(), nil
}

// UpdateScale writes the scale subresource; its resourceVersion, if set, is a
// precondition.
func (c *Client) UpdateScale(kind apiserver.Kind, namespace string, scale *autoscalingv1.Scale) (*autoscalingv1.Scale, error) {
	resp := c.Do(&apiserver.Request{Verb: apiserver.Update, Kind: kind, Namespace: namespace, Name: scale.Name, Subresource: "scale", Scale: scale})
	if resp.Err != nil {
		return nil, resp.Err
	}
	return resp.Scale.DeepCopy(), nil
}

func panicMessage(r any) string { return fmt.Sprint(r) }

func stack() string { return string(debug.Stack()) }
