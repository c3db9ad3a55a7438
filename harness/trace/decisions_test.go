package trace

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The field names of decisions.jsonl are a published format: this test is
// what keeps them.
func TestDecisionFormat(t *testing.T) {
	since := "2025-01-01T00:00:31Z"
	r := &Recorder{}
	r.Record(Decision{
		Time: "2025-01-01T00:02:00.01Z", Controller: "upstream", Owner: "ReplicaSet/default/frontend", OwnerHasController: false,
		Now: "2025-01-01T00:02:00.01Z", Diff: 1,
		Candidates: []Candidate{
			{Name: "frontend-a", UID: "u1", Node: "node-1", Phase: "Running", Ready: true, ReadySince: &since, Created: "2025-01-01T00:00:30Z", Restarts: 2, DeletionCost: 100, Rank: 1},
			{Name: "frontend-b", UID: "u2", Phase: "Pending", Created: "2025-01-01T00:01:00Z"},
		},
		Chosen: []string{"frontend-b"},
	})
	var b strings.Builder
	require.NoError(t, r.WriteJSONL(&b))
	assert.Equal(t, `{"time":"2025-01-01T00:02:00.01Z","controller":"upstream","owner":"ReplicaSet/default/frontend","ownerHasController":false,`+
		`"now":"2025-01-01T00:02:00.01Z","diff":1,"candidates":[`+
		`{"name":"frontend-a","uid":"u1","node":"node-1","phase":"Running","ready":true,"readySince":"2025-01-01T00:00:31Z","created":"2025-01-01T00:00:30Z","restarts":2,"deletionCost":100,"rank":1},`+
		`{"name":"frontend-b","uid":"u2","node":"","phase":"Pending","ready":false,"readySince":null,"created":"2025-01-01T00:01:00Z","restarts":0,"deletionCost":0,"rank":0}],`+
		`"chosen":["frontend-b"]}`+"\n", b.String())

	var nilRecorder *Recorder
	nilRecorder.Record(Decision{}) // a model without a trace records nothing, safely
	assert.Empty(t, nilRecorder.Decisions())
}

// CandidateOf reads back what Candidate.Pod rebuilds.
func TestCandidateOfIsPodsInverse(t *testing.T) {
	since := "2026-01-02T03:04:05.5Z"
	for _, c := range []Candidate{
		{Name: "web-1", UID: "u1", Node: "node-1", Phase: "Running", Ready: true, ReadySince: &since, Created: "2026-01-02T03:00:00Z", Restarts: 2},
		{Name: "web-2", UID: "u2", Phase: "Pending", Created: "2026-01-02T03:00:00Z"},
	} {
		assert.Equal(t, c, CandidateOf(c.Pod()))
	}
}
