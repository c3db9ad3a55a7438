package ctrlsim

import (
	"context"
	"testing"

	"github.com/ctrlsim/ctrlsim/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The differential sweep finds no difference between a strategy and itself,
// and finds the one between two scale-down rankings.
func TestDiffSeparatesStrategiesThatDecideOtherwise(t *testing.T) {
	up, err := models.Lookup("upstream")
	require.NoError(t, err)
	oldest, err := models.Lookup("oldest-first")
	require.NoError(t, err)
	cfg := DiffConfig{A: up, B: up, Scenarios: []string{"rs-scale-down-deletion-cost"}, Seeds: []uint64{1, 2}}

	same, err := Diff(context.Background(), cfg)
	require.NoError(t, err)
	assert.Zero(t, same.Disagreements, "%+v", same.Runs)
	require.Len(t, same.Runs, 2)
	assert.NotEmpty(t, same.Runs[0].A.Deleted, "the scenario scales down")

	cfg.B = oldest
	other, err := Diff(context.Background(), cfg)
	require.NoError(t, err)
	assert.Equal(t, 2, other.Disagreements)
	assert.Contains(t, other.Runs[0].Differences[0], "pods deleted")
}
