package workloads

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/sim"
	yaml "go.yaml.in/yaml/v3"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	sigsjson "sigs.k8s.io/json"
)

// Manifest reads an embedded manifest file by name ("frontend.yaml").
func Manifest(name string) ([]apiserver.Object, error) {
	data, err := catalogFS.ReadFile("manifests/" + name)
	if err != nil {
		return nil, err
	}
	return DecodeManifests(name, data)
}

// servedVersions says which apiVersion/kind serves each kind.
var servedVersions = map[string]apiserver.Kind{}

// kindsByName are the simulated kinds by their kind name.
var kindsByName = map[string]apiserver.Kind{}

func init() {
	for _, k := range apiserver.Kinds {
		servedVersions[apiserver.GroupVersionOf(k).String()+"/"+string(k)] = k
		kindsByName[string(k)] = k
	}
}

// converted are the versions read by conversion to the served one, as the
// real API server serves both.
var converted = map[string]apiserver.Kind{
	"autoscaling/v1/HorizontalPodAutoscaler": apiserver.HorizontalPodAutoscalers,
}

// removed are versions of the simulated kinds that Kubernetes no longer serves:
// a clear error, and the object is read as the served version to find its
// other problems.
var removed = map[string]string{ // apiVersion/kind → the release that removed it
	"extensions/v1beta1/ReplicaSet":               "1.16",
	"extensions/v1beta1/Deployment":               "1.16",
	"extensions/v1beta1/DaemonSet":                "1.16",
	"apps/v1beta1/Deployment":                     "1.16",
	"apps/v1beta1/StatefulSet":                    "1.16",
	"apps/v1beta1/ControllerRevision":             "1.16",
	"apps/v1beta2/Deployment":                     "1.16",
	"apps/v1beta2/StatefulSet":                    "1.16",
	"apps/v1beta2/ReplicaSet":                     "1.16",
	"apps/v1beta2/DaemonSet":                      "1.16",
	"apps/v1beta2/ControllerRevision":             "1.16",
	"autoscaling/v2beta1/HorizontalPodAutoscaler": "1.25",
	"autoscaling/v2beta2/HorizontalPodAutoscaler": "1.26",
}

// preV1 are the API versions before Kubernetes 1.0 (id, desiredState, …).
var preV1 = map[string]bool{"v1beta1": true, "v1beta2": true, "v1beta3": true}

// manifestDoc is one object of a manifest, with where it came from.
type manifestDoc struct {
	file  string
	node  *yaml.Node // the object's mapping
	obj   apiserver.Object
	label string // `ReplicaSet "frontend"`
	// legacy is the apiVersion it was written with, when that is no longer
	// served and the object was read as the served version.
	legacy string
	// dryRun: the object decoded well enough to be validated by the server.
	dryRun bool
}

// DecodeManifests decodes a multi-document YAML (or JSON) stream of
// Kubernetes objects and validates them as the API server would on create.
// file names the stream in errors. The error, if any, is Errors: every
// problem, each naming file, line, object and field.
func DecodeManifests(file string, data []byte) ([]apiserver.Object, error) {
	var errs errorSink
	docs := decodeStream(&errs, file, data, 0)
	dryRunCreate(&errs, docs)
	if err := errs.err(); err != nil {
		return nil, err
	}
	return objectsOf(docs), nil
}

func objectsOf(docs []*manifestDoc) []apiserver.Object {
	out := make([]apiserver.Object, 0, len(docs))
	for _, d := range docs {
		out = append(out, d.obj)
	}
	return out
}

// decodeStream decodes every document of a stream; lines are shifted by offset.
func decodeStream(errs *errorSink, file string, data []byte, offset int) []*manifestDoc {
	nodes, perr := parseDocs(file, data, offset)
	if perr != nil {
		errs.add(perr)
		return nil
	}
	var out []*manifestDoc
	for _, n := range nodes {
		if d := decodeObject(errs, file, content(n)); d != nil {
			out = append(out, d)
		}
	}
	return out
}

// objectLabel names an object as kubectl does: ReplicaSet "frontend".
func objectLabel(kind, name, generateName string) string {
	if kind == "" {
		kind = "object"
	}
	switch {
	case name != "":
		return fmt.Sprintf("%s %q", kind, name)
	case generateName != "":
		return fmt.Sprintf("%s (generateName %q)", kind, generateName)
	}
	return kind + " (no name)"
}

// decodeObject decodes one object; nil if it cannot be read at all.
func decodeObject(errs *errorSink, file string, n *yaml.Node) *manifestDoc {
	if n == nil || n.Kind != yaml.MappingNode {
		line := 0
		if n != nil {
			line = n.Line
		}
		errs.add(&Error{File: file, Line: line, Detail: "a manifest must be an object with apiVersion, kind and metadata"})
		return nil
	}
	apiVersion, avLine := scalar(n, "apiVersion")
	kindName, kindLine := scalar(n, "kind")
	_, meta := lookup(n, "metadata")
	var name, generateName string
	if meta != nil && meta.Kind == yaml.MappingNode {
		name, _ = scalar(meta, "name")
		generateName, _ = scalar(meta, "generateName")
	}
	if name == "" && preV1[apiVersion] {
		name, _ = scalar(n, "id")
	}
	d := &manifestDoc{file: file, node: n, label: objectLabel(kindName, name, generateName)}
	fail := func(line int, field, detail string) *manifestDoc {
		if line == 0 {
			line = n.Line
		}
		errs.add(&Error{File: file, Line: line, Object: d.label, Field: field, Detail: detail})
		return nil
	}
	if kindName == "" {
		return fail(kindLine, "kind", "Required value")
	}
	if apiVersion == "" {
		return fail(avLine, "apiVersion", "Required value"+servedHint(kindName))
	}
	if preV1[apiVersion] {
		return fail(avLine, "apiVersion", fmt.Sprintf("Unsupported value: %q: %s", apiVersion, preV1Hint(kindName)))
	}
	key := apiVersion + "/" + kindName
	kind, served := servedVersions[key]
	var obj apiserver.Object
	switch {
	case served:
		obj = apiserver.NewObject(kind)
	case converted[key] != "":
		kind = converted[key]
		obj = &autoscalingv1.HorizontalPodAutoscaler{}
	case removed[key] != "":
		kind = kindsByName[kindName]
		obj = apiserver.NewObject(kind)
		d.legacy = apiVersion
		use := apiserver.GroupVersionOf(kind).String()
		errs.add(&Error{File: file, Line: avLine, Object: d.label, Field: "apiVersion",
			Detail: fmt.Sprintf("Unsupported value: %q: %s is no longer served at %s (removed in Kubernetes %s): use %s; the rest of this %s was read as %s",
				apiVersion, kindName, apiVersion, removed[key], use, kindName, use)})
	default:
		if k, ok := kindsByName[kindName]; ok {
			return fail(avLine, "apiVersion", fmt.Sprintf("Unsupported value: %q: %s is served at %s", apiVersion, kindName, apiserver.GroupVersionOf(k)))
		}
		return fail(kindLine, "kind", fmt.Sprintf("Unsupported value: %q: not a kind the simulator serves (%s)", kindName, servedKindList()))
	}
	if kind == apiserver.Nodes {
		return fail(kindLine, "kind", "Unsupported value: \"Node\": nodes come from the scenario's cluster (nodeCount or nodes), not from manifests")
	}

	duplicateKeys(n, "", 0, func(path string, k *yaml.Node) {
		errs.add(&Error{File: file, Line: k.Line, Object: d.label, Field: path, Detail: fmt.Sprintf("duplicate field %q", k.Value)})
	})
	data, err := nodeJSON(n)
	if err != nil {
		return fail(n.Line, "", "cannot read the object: "+err.Error())
	}
	strict, err := sigsjson.UnmarshalStrict(data, obj)
	root := reflect.TypeOf(obj).Elem()
	for _, se := range strict {
		var fe sigsjson.FieldError
		if !errors.As(se, &fe) {
			errs.add(&Error{File: file, Line: n.Line, Object: d.label, Detail: se.Error()})
			continue
		}
		path := fe.FieldPath()
		if strings.HasPrefix(se.Error(), "duplicate field") {
			continue // reported from the YAML, with its line
		}
		segs := splitPath(path)
		last := path
		if len(segs) > 0 {
			last = segs[len(segs)-1].name
		}
		detail := fmt.Sprintf("unknown field %q", last)
		if t := typeAtField(root, path); t != nil {
			detail += " in " + openAPIName(t)
		}
		errs.add(&Error{File: file, Line: lineOf(n, path), Object: d.label, Field: path, Detail: detail + indentHint(root, path)})
	}
	if err != nil {
		field, detail := decodeErrorDetail(err)
		line, resolved := locate(n, field)
		errs.add(&Error{File: file, Line: line, Object: d.label, Field: resolved, Detail: detail})
		return nil
	}
	if v1, ok := obj.(*autoscalingv1.HorizontalPodAutoscaler); ok {
		obj = hpaV1ToV2(v1)
	}
	obj.GetObjectKind().SetGroupVersionKind(apiserver.GroupVersionOf(kind).WithKind(string(kind)))
	d.obj, d.dryRun = obj, true
	return d
}

func servedKindList() string {
	var out []string
	for _, k := range apiserver.Kinds {
		if k != apiserver.Nodes {
			out = append(out, apiserver.GroupVersionOf(k).String()+" "+string(k))
		}
	}
	return "served: " + strings.Join(out, ", ")
}

func servedHint(kindName string) string {
	if k, ok := kindsByName[kindName]; ok {
		return fmt.Sprintf(" (%s is served at %s)", kindName, apiserver.GroupVersionOf(k))
	}
	return ""
}

// preV1Hint explains the pre-1.0 format and what it became.
func preV1Hint(kind string) string {
	const intro = "this is the pre-1.0 Kubernetes API (id, desiredState, labels at the top level), removed before Kubernetes 1.0"
	switch kind {
	case "ReplicationController":
		return intro + "; write it for apiVersion v1: metadata.name (was id), metadata.labels (was labels), spec.replicas, spec.selector (was desiredState.replicaSelector) and spec.template (was desiredState.podTemplate, its containers under spec.containers)"
	case "Pod":
		return intro + "; write it for apiVersion v1: metadata.name (was id), metadata.labels (was labels) and spec.containers (was desiredState.manifest.containers)"
	}
	return intro + "; write it for apiVersion v1 (metadata.name, spec) or, for workloads, apps/v1"
}

var typeErrorRE = regexp.MustCompile(`^json: cannot unmarshal (\S+)(?: \S+)? into Go struct field [A-Za-z0-9_]*\.(\S+) of type (.+)$`)

// decodeErrorDetail turns a JSON decoding error into a field and a message in
// kubectl's terms (invalid type: got "string", expected "integer").
func decodeErrorDetail(err error) (field, detail string) {
	m := typeErrorRE.FindStringSubmatch(err.Error())
	if m == nil {
		return "", err.Error()
	}
	return m[2], fmt.Sprintf("Invalid type: got %q, expected %q", jsonTypeName(m[1]), schemaType(m[3]))
}

func jsonTypeName(v string) string {
	if v == "bool" {
		return "boolean"
	}
	return v
}

func schemaType(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "array"
	case strings.HasPrefix(goType, "map["):
		return "object"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"):
		return "integer"
	case strings.HasPrefix(goType, "float"):
		return "number"
	case goType == "bool":
		return "boolean"
	case goType == "string" || !strings.Contains(goType, "."):
		return "string"
	}
	return "object"
}

// hpaV1ToV2 converts an autoscaling/v1 HorizontalPodAutoscaler to
// autoscaling/v2, as the API server does: targetCPUUtilizationPercentage
// becomes a CPU utilization metric.
func hpaV1ToV2(in *autoscalingv1.HorizontalPodAutoscaler) *autoscalingv2.HorizontalPodAutoscaler {
	out := &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: *in.ObjectMeta.DeepCopy()}
	ref := in.Spec.ScaleTargetRef
	out.Spec.ScaleTargetRef = autoscalingv2.CrossVersionObjectReference{Kind: ref.Kind, Name: ref.Name, APIVersion: ref.APIVersion}
	if in.Spec.MinReplicas != nil {
		v := *in.Spec.MinReplicas
		out.Spec.MinReplicas = &v
	}
	out.Spec.MaxReplicas = in.Spec.MaxReplicas
	if p := in.Spec.TargetCPUUtilizationPercentage; p != nil {
		v := *p
		out.Spec.Metrics = []autoscalingv2.MetricSpec{{
			Type: autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricSource{Name: corev1.ResourceCPU,
				Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &v}},
		}}
	}
	return out
}

// dryRunCreate creates the objects, in order, on a throw-away API server, so
// that every object is validated (and defaulted) as the real server would on
// create, and names given twice are found. The messages are the server's.
func dryRunCreate(errs *errorSink, docs []*manifestDoc) {
	api := apiserver.New(sim.New(0, sim.Limits{}), apiserver.DefaultConfig())
	for _, d := range docs {
		if !d.dryRun {
			continue
		}
		resp := api.Serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.KindOf(d.obj), Namespace: d.obj.GetNamespace(), Object: d.obj})
		if resp.Err != nil {
			serverErrors(errs, d, resp.Err)
		}
	}
}

// serverErrors reports a server's error for one object: each cause of an
// Invalid at the line of its field.
func serverErrors(errs *errorSink, d *manifestDoc, err error) {
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		st := status.Status()
		if st.Reason == metav1.StatusReasonInvalid && st.Details != nil && len(st.Details.Causes) > 0 {
			for _, c := range st.Details.Causes {
				errs.add(&Error{File: d.file, Line: lineOf(d.node, c.Field), Object: d.label, Field: c.Field, Detail: c.Message + legacyHint(d, c)})
			}
			return
		}
	}
	detail := err.Error()
	if apierrors.IsAlreadyExists(err) {
		detail += ": the same object is given twice"
	}
	errs.add(&Error{File: d.file, Line: d.node.Line, Object: d.label, Detail: detail})
}

// legacyHint: the old workload versions defaulted the selector from the
// template's labels; apps/v1 requires it.
func legacyHint(d *manifestDoc, c metav1.StatusCause) string {
	if d.legacy == "" || c.Field != "spec.selector" || c.Type != metav1.CauseTypeFieldValueRequired {
		return ""
	}
	hint := fmt.Sprintf(" (%s defaulted it from the pod template's labels; %s requires it", d.legacy, apiserver.GroupVersionOf(apiserver.KindOf(d.obj)))
	if labels := templateLabels(d.obj); len(labels) > 0 {
		keys := slices.Sorted(maps.Keys(labels))
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + ": " + labels[k]
		}
		hint += ": selector: {matchLabels: {" + strings.Join(parts, ", ") + "}}"
	}
	return hint + ")"
}

func templateLabels(obj apiserver.Object) map[string]string {
	v := reflect.ValueOf(obj).Elem().FieldByName("Spec")
	if !v.IsValid() {
		return nil
	}
	t := v.FieldByName("Template")
	if !t.IsValid() || t.Kind() != reflect.Struct {
		return nil
	}
	if tmpl, ok := t.Addr().Interface().(*corev1.PodTemplateSpec); ok {
		return tmpl.Labels
	}
	return nil
}
