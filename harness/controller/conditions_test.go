package controller

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
)

func TestConditions(t *testing.T) {
	typeOf := func(c *appsv1.ReplicaSetCondition) appsv1.ReplicaSetConditionType { return c.Type }
	conds := []appsv1.ReplicaSetCondition{{Type: "A", Reason: "1"}, {Type: appsv1.ReplicaSetReplicaFailure}, {Type: "A", Reason: "2"}}
	got := GetCondition(conds, "A", typeOf)
	require.NotNil(t, got)
	assert.Equal(t, "1", got.Reason, "the first")
	got.Reason = "changed"
	assert.Equal(t, "1", conds[0].Reason, "a copy")
	assert.Nil(t, GetCondition(conds, "B", typeOf))
	assert.Equal(t, []appsv1.ReplicaSetCondition{{Type: appsv1.ReplicaSetReplicaFailure}}, FilterOutCondition(conds, "A", typeOf))
	assert.Nil(t, FilterOutCondition(conds[1:2], appsv1.ReplicaSetReplicaFailure, typeOf))
}
