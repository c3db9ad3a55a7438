package kube

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestResolveFenceposts(t *testing.T) {
	intOrStr := func(s string) *intstr.IntOrString {
		v := intstr.Parse(s)
		return &v
	}
	for _, tc := range []struct {
		surge, unavailable *intstr.IntOrString
		desired            int32
		s, u               int32
	}{
		{intOrStr("1"), intOrStr("0"), 2, 1, 0}, // kubectl rolling-update's
		{intOrStr("25%"), intOrStr("25%"), 10, 3, 2},
		{intOrStr("25%"), intOrStr("25%"), 1, 1, 0}, // surge rounds up, unavailable down
		{intOrStr("0"), intOrStr("10%"), 5, 0, 1},   // both 0: one may be unavailable
		{intOrStr("0"), intOrStr("0"), 3, 0, 1},
		{nil, intOrStr("1"), 3, 0, 1},
	} {
		s, u, err := ResolveFenceposts(tc.surge, tc.unavailable, tc.desired)
		require.NoError(t, err)
		assert.Equal(t, [2]int32{tc.s, tc.u}, [2]int32{s, u}, "%v %v of %d", tc.surge, tc.unavailable, tc.desired)
	}
	_, _, err := ResolveFenceposts(intOrStr("abc"), nil, 3)
	assert.Error(t, err)
}

func TestRollbackAnnotations(t *testing.T) {
	d := map[string]string{"deployment.kubernetes.io/revision": "3", "note": "deployment's", "gone": "x"}
	rs := map[string]string{"deployment.kubernetes.io/revision": "1", "note": "rs's"}
	assert.Equal(t, map[string]string{"deployment.kubernetes.io/revision": "3", "note": "rs's"}, RollbackAnnotations(d, rs))
	assert.True(t, DeploymentOnlyAnnotation("kubectl.kubernetes.io/last-applied-configuration"))
	assert.False(t, DeploymentOnlyAnnotation("note"))
}
