package workloads

import (
	"bytes"
	"embed"
	"fmt"
	"strings"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

// The manifests of the source material, embedded for the built-in catalog.
//
//go:embed manifests/*.yaml
var builtinManifests embed.FS

// Manifest reads an embedded manifest file by name ("frontend.yaml").
func Manifest(name string) ([]apiserver.Object, error) {
	data, err := builtinManifests.ReadFile("manifests/" + name)
	if err != nil {
		return nil, err
	}
	return DecodeManifests(name, data)
}

// servedVersions says which apiVersion serves each kind.
var servedVersions = map[string]apiserver.Kind{}

func init() {
	for _, k := range apiserver.Kinds {
		servedVersions[apiserver.GroupVersionOf(k).String()+"/"+string(k)] = k
	}
}

// DecodeManifests decodes a multi-document YAML (or JSON) stream of
// Kubernetes objects. Unknown fields are errors.
func DecodeManifests(file string, data []byte) ([]apiserver.Object, error) {
	var out []apiserver.Object
	for i, doc := range splitDocuments(data) {
		var meta struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", file, i+1, err)
		}
		if meta.APIVersion == "" && meta.Kind == "" {
			continue // an empty document
		}
		kind, ok := servedVersions[meta.APIVersion+"/"+meta.Kind]
		if !ok {
			return nil, fmt.Errorf("%s: document %d: %s %q is not served (served: apps/v1, v1, autoscaling/v2)", file, i+1, meta.Kind, meta.APIVersion)
		}
		obj := apiserver.NewObject(kind)
		if err := yaml.UnmarshalStrict(doc, obj); err != nil {
			return nil, fmt.Errorf("%s: document %d (%s): %w", file, i+1, meta.Kind, err)
		}
		gvk := schema.FromAPIVersionAndKind(meta.APIVersion, meta.Kind)
		obj.GetObjectKind().SetGroupVersionKind(gvk)
		out = append(out, obj)
	}
	return out, nil
}

func splitDocuments(data []byte) [][]byte {
	var docs [][]byte
	var cur bytes.Buffer
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if strings.TrimRight(line, " \t\r\n") == "---" {
			docs = append(docs, bytes.Clone(cur.Bytes()))
			cur.Reset()
			continue
		}
		cur.WriteString(line)
	}
	return append(docs, cur.Bytes())
}
