package history

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestStampsOrderTheTimeline(t *testing.T) {
	r := NewRecorder(true)
	a := r.Begin(&Op{Verb: "get"}, 5)
	b := r.Begin(&Op{Verb: "get"}, 5)
	ret := r.Stamp(5)
	a.Return = &ret
	assert.Equal(t, uint64(1), a.ID)
	assert.Equal(t, uint64(2), b.ID)
	assert.Less(t, a.Call.Seq, b.Call.Seq, "same virtual time, still ordered")
	assert.Less(t, b.Call.Seq, ret.Seq)
	assert.Len(t, r.Ops(), 2)

	lean := NewRecorder(false)
	lean.Begin(&Op{}, 0)
	op := lean.Begin(&Op{}, 0)
	assert.Equal(t, uint64(2), op.ID, "ids count even when ops are not kept")
	assert.Empty(t, lean.Ops())
}

func TestDigestIsTheJSONLines(t *testing.T) {
	ops := []*Op{{ID: 1, Client: "kubectl", Verb: "create", Kind: "Pod", Key: "default/p", Code: 201}}
	var b strings.Builder
	assert.NoError(t, WriteJSONL(&b, ops))
	assert.Equal(t, `{"id":1,"client":"kubectl","verb":"create","kind":"Pod","key":"default/p","call":{"t":0,"seq":0},"code":201}`+"\n", b.String())
	d := Digest(ops)
	assert.Len(t, d, 64)
	assert.Equal(t, d, Digest([]*Op{{ID: 1, Client: "kubectl", Verb: "create", Kind: "Pod", Key: "default/p", Code: 201}}))
	ops[0].Code = 409
	assert.NotEqual(t, d, Digest(ops))
}
