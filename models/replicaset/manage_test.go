package replicaset

import (
	"testing"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/controller"
	"github.com/ctrlsim/ctrlsim/models/internal/modeltest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/watch"
)

// creates records, per instant, how many pod creates committed.
func creates(c *testCluster) *[]int {
	var batches []int
	last := time.Duration(-1)
	c.api.OnCommit(func(ev apiserver.Event) {
		if ev.Kind != apiserver.Pods || ev.Type != watch.Added {
			return
		}
		// With a fixed latency the creates of one batch commit at the same
		// instant; the next batch starts after the previous one answered.
		if now := c.w.Elapsed(); now != last {
			batches = append(batches, 0)
		}
		batches[len(batches)-1]++
		last = c.w.Elapsed()
	})
	return &batches
}

func TestSlowStartBatchesAndBurst(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    Options
		want    []int // pod creates per batch in the first sync
		perSync int
	}{
		{"upstream: batches of 1, 2, 4, … capped at the burst of 500", Options{}, []int{1, 2, 4, 8, 16, 32, 64, 128, 245}, 500},
		{"no slow start: one batch", Options{NoSlowStart: true}, []int{500}, 500},
		{"burst 50", Options{BurstReplicas: 50}, []int{1, 2, 4, 8, 16, 19}, 50},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Fixed latency so batches are easy to tell apart.
			c := newTestCluster(t, 1, 2*time.Millisecond, 2*time.Millisecond)
			c.api = apiserver.New(c.w, modeltest.APIConfig(apiserver.Fixed(2*time.Millisecond), apiserver.Fixed(time.Second)))
			batches := creates(c)
			Start(c.api, tc.opts)
			c.serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.ReplicaSets, Object: frontend(600)})
			c.w.RunUntil(500 * time.Millisecond) // before any pod is seen: only the first sync ran
			assert.Equal(t, tc.want, *batches)
			total := 0
			for _, n := range *batches {
				total += n
			}
			assert.Equal(t, tc.perSync, total, "one sync creates at most the burst")
			c.w.RunUntil(time.Minute)
			assert.Len(t, c.pods("tier=frontend"), 600, "the rest in later syncs")
		})
	}
}

// failCreates rejects pod creates from the controller.
type failCreates struct{ on bool }

func (f *failCreates) Intercept(req *apiserver.Request) apiserver.Interception {
	if f.on && req.Verb == apiserver.Create && req.Kind == apiserver.Pods {
		return apiserver.Interception{Reject: apierrors.NewForbidden(corev1.Resource("pods"), "", assertErr("exceeded quota"))}
	}
	return apiserver.Interception{}
}

type assertErr string

func (e assertErr) Error() string { return string(e) }

func TestReplicaFailureCondition(t *testing.T) {
	c := newTestCluster(t, 1, 5*time.Millisecond, 5*time.Millisecond)
	quota := &failCreates{on: true}
	c.api.Interceptor = quota
	Start(c.api, Options{})
	c.serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.ReplicaSets, Object: frontend(3)})
	c.w.RunUntil(10 * time.Second)
	rs := c.serve(&apiserver.Request{Verb: apiserver.Get, Kind: apiserver.ReplicaSets, Name: "frontend"}).(*appsv1.ReplicaSet)
	cond := controller.GetCondition(rs.Status.Conditions, appsv1.ReplicaSetReplicaFailure, conditionType)
	require.NotNil(t, cond, "a failed create sets ReplicaFailure")
	assert.Equal(t, "FailedCreate", cond.Reason)
	assert.Contains(t, cond.Message, "exceeded quota")
	assert.Empty(t, c.pods("tier=frontend"), "the slow start stopped after the first failed batch")

	quota.on = false
	c.w.RunUntil(20 * time.Minute) // the rate-limited retry comes back
	rs = c.serve(&apiserver.Request{Verb: apiserver.Get, Kind: apiserver.ReplicaSets, Name: "frontend"}).(*appsv1.ReplicaSet)
	assert.Nil(t, controller.GetCondition(rs.Status.Conditions, appsv1.ReplicaSetReplicaFailure, conditionType), "cleared once creates succeed")
	assert.Len(t, c.pods("tier=frontend"), 3)
}
