package workloads

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
)

// jsonField is one field of a Go struct as JSON sees it.
type jsonField struct {
	name   string // the JSON name
	tagged bool   // named by a json tag (matched exactly); untagged fields match any case
	typ    reflect.Type
}

var jsonUnmarshalerType = reflect.TypeOf((*json.Unmarshaler)(nil)).Elem()

// jsonFields lists the JSON fields of struct type t, inline and embedded
// structs flattened, in declaration order.
func jsonFields(t reflect.Type) []jsonField {
	var out []jsonField
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" && opts == "" {
			continue
		}
		if f.Anonymous && name == "" || strings.Contains(","+opts+",", ",inline,") {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				out = append(out, jsonFields(ft)...)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			out = append(out, jsonField{name: f.Name, typ: f.Type})
		} else {
			out = append(out, jsonField{name: name, tagged: true, typ: f.Type})
		}
	}
	return out
}

// findField finds the JSON field called name in struct type t.
func findField(t reflect.Type, name string) (jsonField, bool) {
	fields := jsonFields(t)
	for _, f := range fields {
		if f.name == name {
			return f, true
		}
	}
	for _, f := range fields {
		if !f.tagged && strings.EqualFold(f.name, name) {
			return f, true
		}
	}
	return jsonField{}, false
}

// elemStruct is the struct type a field of type t holds (through pointers,
// slices and maps), or nil.
func elemStruct(t reflect.Type) reflect.Type {
	for t != nil {
		switch t.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
			t = t.Elem()
		case reflect.Struct:
			if reflect.PointerTo(t).Implements(jsonUnmarshalerType) {
				return nil // a quantity, a time: a scalar to JSON
			}
			return t
		default:
			return nil
		}
	}
	return nil
}

// typeAt is the struct type at a field path under root (nil if the path
// leaves the known structs).
func typeAt(root reflect.Type, segs []pathSeg) reflect.Type {
	t := elemStruct(root)
	for _, s := range segs {
		if t == nil {
			return nil
		}
		if s.index >= 0 || s.isKey {
			continue // the struct type of a list element or map value is the same
		}
		f, ok := findField(t, s.name)
		if !ok {
			return nil
		}
		t = elemStruct(f.typ)
	}
	return t
}

// openAPIName is how kubectl names a type in its messages
// (io.k8s.api.apps.v1.ReplicaSetSpec).
func openAPIName(t reflect.Type) string {
	pkg := t.PkgPath()
	if rest, ok := strings.CutPrefix(pkg, "k8s.io/"); ok {
		return "io.k8s." + strings.ReplaceAll(rest, "/", ".") + "." + t.Name()
	}
	return t.Name()
}

// indentHint guesses, for an unknown field at path in an object of type root,
// where the field would be known: one level deeper (under a sibling field) or
// one level up. A misindented line gives exactly this.
func indentHint(root reflect.Type, path string) string {
	var names []pathSeg
	for _, s := range splitPath(path) {
		if s.index < 0 && !s.isKey {
			names = append(names, s)
		}
	}
	if len(names) == 0 {
		return ""
	}
	name := names[len(names)-1].name
	parentSegs := names[:len(names)-1]
	prefix := func(segs []pathSeg) string {
		parts := make([]string, len(segs))
		for i, s := range segs {
			parts[i] = s.name
		}
		return strings.Join(parts, ".")
	}
	var cands []string
	if parent := typeAt(root, parentSegs); parent != nil {
		for _, f := range jsonFields(parent) {
			if st := elemStruct(f.typ); st != nil {
				if _, ok := findField(st, name); ok {
					cands = append(cands, joinPath(joinPath(prefix(parentSegs), f.name), name))
				}
			}
		}
	}
	if len(parentSegs) > 0 {
		up := parentSegs[:len(parentSegs)-1]
		if gp := typeAt(root, up); gp != nil {
			if _, ok := findField(gp, name); ok {
				c := joinPath(prefix(up), name)
				if !strings.HasPrefix(path+".", c+".") { // not an ancestor of the field itself
					cands = append(cands, c)
				}
			}
		}
	}
	if len(cands) == 0 || len(cands) > 3 {
		return ""
	}
	sort.Strings(cands)
	return "; is it misindented? " + strings.Join(cands, " or ") + " would be known"
}

// typeAtField is the Go type of the struct that holds the field at path (for
// naming it in messages), or nil.
func typeAtField(root reflect.Type, path string) reflect.Type {
	segs := splitPath(path)
	for len(segs) > 0 && (segs[len(segs)-1].index >= 0 || segs[len(segs)-1].isKey) {
		segs = segs[:len(segs)-1]
	}
	if len(segs) == 0 {
		return nil
	}
	return typeAt(root, segs[:len(segs)-1])
}
