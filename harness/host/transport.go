package host

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/scheme"
)

// A restCall is one HTTP request translated into the simulated API server's
// terms: a Request, a watch, or something answered at once (an error, or a
// kind the simulation does not keep, like events).
type restCall struct {
	req   *apiserver.Request
	watch *apiserver.WatchOptions
	// initialEvents: a watch-list (sendInitialEvents=true), client-go's
	// default way to fill an informer since v1.35.
	initialEvents bool
	now           *http.Response // answered without the simulation
	// local is answered from the World's state at once, when the World
	// serves the call (the resource metrics API: no latency, no history).
	local func(*apiserver.Server) *http.Response
	// key orders the calls that arrive while hosted code runs: it is made
	// from what was asked, never from when or by which goroutine.
	key string
}

// decodeRequest translates an HTTP request of a client-go REST client.
func decodeRequest(hr *http.Request, client string) *restCall {
	body, err := readBody(hr)
	if err != nil {
		return answer(hr, apierrors.NewBadRequest(err.Error()))
	}
	p, err := parsePath(hr.URL.Path)
	if err != nil {
		return answer(hr, err)
	}
	if p.resource == "events" && (p.gv.Group == "" || p.gv.Group == "events.k8s.io") {
		// Event recorders: accepted, not kept (they are not part of what is
		// checked, and a real recorder's failures only get logged).
		return answerEvent(hr, body)
	}
	q := hr.URL.Query()
	key := fmt.Sprintf("%s %s %s %x", hr.Method, hr.URL.Path, canonicalQuery(q), sha256.Sum256(body))
	if p.gv.Group == "metrics.k8s.io" && p.resource == "pods" && hr.Method == http.MethodGet {
		return podMetrics(hr, p, q, key)
	}
	kind, ok := apiserver.KindFor(p.gv.WithResource(p.resource))
	if !ok {
		return answer(hr, apierrors.NewNotFound(schema.GroupResource{Group: p.gv.Group, Resource: p.resource}, p.name))
	}
	req := &apiserver.Request{Client: client, Kind: kind, Namespace: p.namespace, Name: p.name, Subresource: p.subresource}
	switch p.subresource {
	case "", "status", "binding":
	case "scale":
		if !apiserver.HasScale(kind) {
			return answer(hr, apierrors.NewNotFound(schema.GroupResource{Group: p.gv.Group, Resource: p.resource + "/scale"}, p.name))
		}
	default:
		return answer(hr, apierrors.NewNotFound(schema.GroupResource{Group: p.gv.Group, Resource: p.resource + "/" + p.subresource}, p.name))
	}
	switch hr.Method {
	case http.MethodGet:
		if p.name != "" {
			req.Verb = apiserver.Get
			break
		}
		ls, fs, err := selectors(q)
		if err != nil {
			return answer(hr, err)
		}
		if isTrue(q.Get("watch")) {
			return &restCall{key: key, initialEvents: isTrue(q.Get("sendInitialEvents")),
				watch: &apiserver.WatchOptions{Client: client, Kind: kind, Namespace: p.namespace,
					Labels: ls, Fields: fs, ResourceVersion: q.Get("resourceVersion")}}
		}
		req.Verb, req.LabelSelector, req.FieldSelector, req.ResourceVersion = apiserver.List, ls, fs, q.Get("resourceVersion")
	case http.MethodPost:
		if p.subresource == "binding" {
			var b corev1.Binding
			if err := decodeInto(hr, body, &b); err != nil {
				return answer(hr, apierrors.NewBadRequest(err.Error()))
			}
			req.Verb, req.Name, req.Node = apiserver.Create, b.Name, b.Target.Name
			break
		}
		if p.name != "" {
			return answer(hr, apierrors.NewMethodNotSupported(schema.GroupResource{Group: p.gv.Group, Resource: p.resource}, "create with a name in the path"))
		}
		obj, err := decodeObject(body, kind)
		if err != nil {
			return answer(hr, err)
		}
		req.Verb, req.Object = apiserver.Create, obj
		if obj.GetNamespace() == "" {
			obj.SetNamespace(p.namespace)
		}
	case http.MethodPut:
		req.Verb = apiserver.Update
		if p.subresource == "scale" {
			var s autoscalingv1.Scale
			if err := decodeInto(hr, body, &s); err != nil {
				return answer(hr, apierrors.NewBadRequest(err.Error()))
			}
			req.Scale = &s
			break
		}
		obj, err := decodeObject(body, kind)
		if err != nil {
			return answer(hr, err)
		}
		req.Object = obj
	case http.MethodPatch:
		ct, _, _ := mime.ParseMediaType(hr.Header.Get("Content-Type"))
		switch pt := types.PatchType(ct); pt {
		case types.JSONPatchType, types.MergePatchType, types.StrategicMergePatchType:
			req.Verb, req.PatchType, req.Patch = apiserver.Patch, pt, body
		default:
			return answer(hr, apierrors.NewGenericServerResponse(http.StatusUnsupportedMediaType, "patch", schema.GroupResource{Resource: p.resource}, p.name,
				fmt.Sprintf("the simulated API server does not serve patches of type %q", ct), 0, false))
		}
	case http.MethodDelete:
		if p.name == "" {
			return answer(hr, apierrors.NewMethodNotSupported(schema.GroupResource{Group: p.gv.Group, Resource: p.resource}, "deletecollection"))
		}
		req.Verb = apiserver.Delete
		if len(body) > 0 {
			var opts metav1.DeleteOptions
			if err := decodeInto(hr, body, &opts); err != nil {
				return answer(hr, apierrors.NewBadRequest(err.Error()))
			}
			req.Delete = &opts
		}
	default:
		return answer(hr, apierrors.NewMethodNotSupported(schema.GroupResource{Group: p.gv.Group, Resource: p.resource}, hr.Method))
	}
	return &restCall{req: req, key: key}
}

type restPath struct {
	gv                                     schema.GroupVersion
	namespace, resource, name, subresource string
}

// parsePath reads /api/v1/[namespaces/NS/]RESOURCE[/NAME[/SUB]] and its
// /apis/GROUP/VERSION/ form.
func parsePath(path string) (restPath, error) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	var p restPath
	switch {
	case len(parts) >= 3 && parts[0] == "api":
		p.gv, parts = schema.GroupVersion{Version: parts[1]}, parts[2:]
	case len(parts) >= 4 && parts[0] == "apis":
		p.gv, parts = schema.GroupVersion{Group: parts[1], Version: parts[2]}, parts[3:]
	default:
		return p, apierrors.NewNotFound(schema.GroupResource{Resource: path}, "")
	}
	if len(parts) >= 3 && parts[0] == "namespaces" {
		p.namespace, parts = parts[1], parts[2:]
	}
	if len(parts) > 3 {
		return p, apierrors.NewNotFound(schema.GroupResource{Resource: path}, "")
	}
	p.resource = parts[0]
	if len(parts) > 1 {
		p.name = parts[1]
	}
	if len(parts) > 2 {
		p.subresource = parts[2]
	}
	return p, nil
}

func selectors(q url.Values) (labels.Selector, fields.Selector, error) {
	ls, err := labels.Parse(q.Get("labelSelector"))
	if err != nil {
		return nil, nil, apierrors.NewBadRequest("labelSelector: " + err.Error())
	}
	fs, err := fields.ParseSelector(q.Get("fieldSelector"))
	if err != nil {
		return nil, nil, apierrors.NewBadRequest("fieldSelector: " + err.Error())
	}
	return ls, fs, nil
}

func isTrue(v string) bool { return v == "true" || v == "1" }

// canonicalQuery is the query without what a client draws at random
// (a reflector's watch timeoutSeconds), in key order.
func canonicalQuery(q url.Values) string {
	c := url.Values{}
	for k, v := range q {
		if k != "timeoutSeconds" {
			c[k] = v
		}
	}
	return c.Encode() // sorted by key
}

func readBody(hr *http.Request) ([]byte, error) {
	if hr.Body == nil {
		return nil, nil
	}
	defer hr.Body.Close()
	return io.ReadAll(hr.Body)
}

// decodeInto decodes a request body into a typed object: JSON as sent by
// most clients, protobuf as kube-controller-manager's clients send by
// default (whose bodies name their kind).
func decodeInto(hr *http.Request, body []byte, into runtime.Object) error {
	ct, _, _ := mime.ParseMediaType(hr.Header.Get("Content-Type"))
	if ct == runtime.ContentTypeProtobuf {
		_, _, err := scheme.Codecs.UniversalDeserializer().Decode(body, nil, into)
		return err
	}
	return json.Unmarshal(body, into)
}

// decodeObject decodes a request body (JSON, YAML or protobuf) into the typed
// object of kind.
func decodeObject(body []byte, kind apiserver.Kind) (apiserver.Object, error) {
	obj, gvk, err := scheme.Codecs.UniversalDeserializer().Decode(body, nil, nil)
	if err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	o, ok := obj.(apiserver.Object)
	if !ok || apiserver.KindOf(o) != kind {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("the body is a %s, the path names a %s", gvk.Kind, kind))
	}
	return o, nil
}

// encodeObject encodes a copy of obj with its apiVersion and kind set.
func encodeObject(obj runtime.Object) []byte {
	obj = obj.DeepCopyObject()
	gvks, _, err := scheme.Scheme.ObjectKinds(obj)
	if err == nil && len(gvks) > 0 {
		obj.GetObjectKind().SetGroupVersionKind(gvks[0])
	}
	b, err := json.Marshal(obj)
	if err != nil {
		panic(fmt.Sprintf("host: encoding a %T: %v", obj, err))
	}
	return b
}

// encodeResponse is the HTTP answer to a served request.
func encodeResponse(hr *http.Request, req *apiserver.Request, resp *apiserver.Response) *http.Response {
	if resp.Err != nil {
		return errorResponse(hr, resp.Err)
	}
	code := http.StatusOK
	var body []byte
	switch {
	case req.Verb == apiserver.List:
		gv := apiserver.GroupVersionOf(req.Kind)
		items := make([]json.RawMessage, len(resp.Items))
		for i, o := range resp.Items {
			items[i] = encodeObject(o)
		}
		body, _ = json.Marshal(map[string]any{
			"apiVersion": gv.String(), "kind": string(req.Kind) + "List",
			"metadata": map[string]string{"resourceVersion": resp.ResourceVersion}, "items": items})
	case resp.Scale != nil:
		body = encodeObject(resp.Scale)
	case resp.Object != nil:
		body = encodeObject(resp.Object)
		if req.Verb == apiserver.Create {
			code = http.StatusCreated
		}
	default: // a delete that removed the object, a binding
		body, _ = json.Marshal(&metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusSuccess})
		if req.Verb == apiserver.Create {
			code = http.StatusCreated
		}
	}
	return jsonResponse(hr, code, body)
}

func errorResponse(hr *http.Request, err error) *http.Response {
	st, ok := err.(apierrors.APIStatus)
	if !ok {
		st = apierrors.NewInternalError(err)
	}
	s := st.Status()
	s.TypeMeta = metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}
	body, _ := json.Marshal(&s)
	code := int(s.Code)
	if code == 0 {
		code = http.StatusInternalServerError
	}
	return jsonResponse(hr, code, body)
}

func answer(hr *http.Request, err error) *restCall {
	return &restCall{now: errorResponse(hr, err)}
}

func answerEvent(hr *http.Request, body []byte) *restCall {
	if hr.Method != http.MethodPost && hr.Method != http.MethodPatch && hr.Method != http.MethodPut {
		return answer(hr, apierrors.NewNotFound(schema.GroupResource{Resource: "events"}, ""))
	}
	return &restCall{now: jsonResponse(hr, http.StatusCreated, body)}
}

func jsonResponse(hr *http.Request, code int, body []byte) *http.Response {
	return &http.Response{
		StatusCode: code, Status: fmt.Sprintf("%d %s", code, http.StatusText(code)),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": []string{"application/json"}},
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       hr,
	}
}

// podMetrics answers the resource metrics API's pod list (what
// metrics-server serves, and autoscalers read) from the World's
// apiserver.MetricsSource; a cluster without one answers 404, as one
// without metrics-server does.
func podMetrics(hr *http.Request, p restPath, q url.Values, key string) *restCall {
	ls, _, err := selectors(q)
	if err != nil {
		return answer(hr, err)
	}
	gr := schema.GroupResource{Group: "metrics.k8s.io", Resource: "pods"}
	return &restCall{key: key, local: func(api *apiserver.Server) *http.Response {
		if api.Metrics == nil {
			return errorResponse(hr, apierrors.NewNotFound(gr, ""))
		}
		items := []map[string]any{}
		for _, m := range api.Metrics.PodMetrics(p.namespace, ls) {
			if p.name != "" && m.Name != p.name {
				continue
			}
			var containers []map[string]any
			for _, c := range m.Containers {
				containers = append(containers, map[string]any{"name": c.Name,
					"usage": map[string]string{"cpu": fmt.Sprintf("%dm", c.CPU), "memory": "0"}})
			}
			items = append(items, map[string]any{
				"metadata":   map[string]string{"name": m.Name, "namespace": p.namespace},
				"timestamp":  m.Timestamp.UTC().Format(time.RFC3339),
				"window":     m.Window.String(),
				"containers": containers,
			})
		}
		if p.name != "" {
			if len(items) == 0 {
				return errorResponse(hr, apierrors.NewNotFound(gr, p.name))
			}
			items[0]["kind"], items[0]["apiVersion"] = "PodMetrics", p.gv.String()
			body, _ := json.Marshal(items[0])
			return jsonResponse(hr, http.StatusOK, body)
		}
		body, _ := json.Marshal(map[string]any{"kind": "PodMetricsList", "apiVersion": p.gv.String(),
			"metadata": map[string]string{}, "items": items})
		return jsonResponse(hr, http.StatusOK, body)
	}}
}
