// Package kube decides the Kubernetes rules that controllers and the
// simulated control plane share, the way upstream's own helpers decide them:
// whether a pod is ready and available (pkg/api/v1/pod), the hash of a pod
// template and of a ControllerRevision (pkg/controller, pkg/controller/history),
// template equality ignoring the pod-template-hash label, maxSurge and
// maxUnavailable as numbers and the annotations a rollback keeps (the
// Deployment controller's util), and taint, toleration and required node-affinity
// matching (k8s.io/component-helpers). There is one implementation of each,
// so that a model, the scheduler and a check cannot disagree; the nested
// upstreamdiff modules test them against upstream's functions.
//
// It imports only the standard library and k8s.io modules.
package kube
