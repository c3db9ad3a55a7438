package host

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
)

// Bodies of the subresources and of a delete's options decode from protobuf
// as from JSON (kube-controller-manager's clients send protobuf by default).
func TestRequestBodiesInProtobufAndJSON(t *testing.T) {
	protobuf, ok := runtime.SerializerInfoForMediaType(scheme.Codecs.SupportedMediaTypes(), runtime.ContentTypeProtobuf)
	require.True(t, ok)
	jsonInfo, ok := runtime.SerializerInfoForMediaType(scheme.Codecs.SupportedMediaTypes(), runtime.ContentTypeJSON)
	require.True(t, ok)
	for _, tc := range []struct {
		media string
		enc   runtime.Serializer
	}{{runtime.ContentTypeProtobuf, protobuf.Serializer}, {runtime.ContentTypeJSON, jsonInfo.Serializer}} {
		t.Run(tc.media, func(t *testing.T) {
			codec := scheme.Codecs.EncoderForVersion(tc.enc, corev1.SchemeGroupVersion)
			del := &metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](7)}
			body, err := runtime.Encode(codec, del)
			require.NoError(t, err)
			hr, err := http.NewRequest(http.MethodDelete, "https://x/api/v1/namespaces/default/pods/p", bytes.NewReader(body))
			require.NoError(t, err)
			hr.Header.Set("Content-Type", tc.media)
			rc := decodeRequest(hr, "c")
			require.Nil(t, rc.now, "answered at once: %v", rc.now)
			require.NotNil(t, rc.req.Delete)
			assert.Equal(t, int64(7), *rc.req.Delete.GracePeriodSeconds)

			scaleCodec := scheme.Codecs.EncoderForVersion(tc.enc, autoscalingv1.SchemeGroupVersion)
			body, err = runtime.Encode(scaleCodec, &autoscalingv1.Scale{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"}, Spec: autoscalingv1.ScaleSpec{Replicas: 4}})
			require.NoError(t, err)
			hr, err = http.NewRequest(http.MethodPut, "https://x/apis/apps/v1/namespaces/default/replicasets/web/scale", bytes.NewReader(body))
			require.NoError(t, err)
			hr.Header.Set("Content-Type", tc.media)
			rc = decodeRequest(hr, "c")
			require.Nil(t, rc.now)
			assert.Equal(t, int32(4), rc.req.Scale.Spec.Replicas)
		})
	}
}
