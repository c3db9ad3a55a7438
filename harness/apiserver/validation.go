package apiserver

import (
	"reflect"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Validation: what the real API server rejects, with its field paths, so that a
// user learns which field of which object is wrong. Not every rule of the real
// server is here; the ones here are the ones workloads and controllers trip on.

type fieldErrs = field.ErrorList

var (
	metaPath     = field.NewPath("metadata")
	specPath     = field.NewPath("spec")
	selectorPath = specPath.Child("selector")
	templatePath = specPath.Child("template")
)

func validateMeta(obj, old Object) fieldErrs {
	namespaced := Namespaced(KindOf(obj))
	errs := apivalidation.ValidateObjectMetaAccessor(obj, namespaced, apivalidation.NameIsDNSSubdomain, metaPath)
	if old != nil {
		errs = append(errs, apivalidation.ValidateObjectMetaAccessorUpdate(obj, old, metaPath)...)
	}
	return errs
}

func validateMetaOnly(obj, old Object) fieldErrs { return validateMeta(obj, old) }

func validatePodSpec(spec *corev1.PodSpec, path *field.Path) fieldErrs {
	var errs fieldErrs
	if len(spec.Containers) == 0 {
		errs = append(errs, field.Required(path.Child("containers"), "must have at least one container"))
	}
	names := map[string]bool{}
	for i, c := range spec.Containers {
		cp := path.Child("containers").Index(i)
		if c.Name == "" {
			errs = append(errs, field.Required(cp.Child("name"), ""))
		} else {
			for _, msg := range validation.IsDNS1123Label(c.Name) {
				errs = append(errs, field.Invalid(cp.Child("name"), c.Name, msg))
			}
			if names[c.Name] {
				errs = append(errs, field.Duplicate(cp.Child("name"), c.Name))
			}
			names[c.Name] = true
		}
		if c.Image == "" {
			errs = append(errs, field.Required(cp.Child("image"), ""))
		}
	}
	switch spec.RestartPolicy {
	case corev1.RestartPolicyAlways, corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever:
	default:
		errs = append(errs, field.NotSupported(path.Child("restartPolicy"), spec.RestartPolicy,
			[]string{string(corev1.RestartPolicyAlways), string(corev1.RestartPolicyOnFailure), string(corev1.RestartPolicyNever)}))
	}
	return errs
}

func validatePod(obj, old Object) fieldErrs {
	pod := obj.(*corev1.Pod)
	errs := validateMeta(obj, old)
	errs = append(errs, validatePodSpec(&pod.Spec, specPath)...)
	if old != nil {
		// A pod's spec is immutable but for container images and added
		// tolerations; the node is set only through the binding subresource.
		prev := old.(*corev1.Pod)
		a, b := pod.Spec.DeepCopy(), prev.Spec.DeepCopy()
		for i := range a.Containers {
			if i < len(b.Containers) {
				a.Containers[i].Image = b.Containers[i].Image
			}
		}
		a.Tolerations, b.Tolerations = nil, nil
		if !reflect.DeepEqual(a, b) {
			errs = append(errs, field.Forbidden(specPath, "pod updates may not change fields other than `spec.containers[*].image` or `spec.tolerations` (only additions to existing tolerations)"))
		}
	}
	return errs
}

// validateWorkload checks what every selector-owning workload shares: a valid,
// non-empty selector that matches the template's labels, replicas >= 0, a valid
// pod template that restarts Always, and (apps/v1) a selector that never changes.
func validateWorkload(sel *metav1.LabelSelector, tmpl *corev1.PodTemplateSpec, replicas *int32, oldSel *metav1.LabelSelector, isUpdate bool) fieldErrs {
	var errs fieldErrs
	if replicas != nil && *replicas < 0 {
		errs = append(errs, field.Invalid(specPath.Child("replicas"), *replicas, "must be greater than or equal to 0"))
	}
	if sel == nil {
		errs = append(errs, field.Required(selectorPath, ""))
	} else {
		errs = append(errs, metav1validation.ValidateLabelSelector(sel, metav1validation.LabelSelectorValidationOptions{}, selectorPath)...)
		if len(sel.MatchLabels)+len(sel.MatchExpressions) == 0 {
			errs = append(errs, field.Invalid(selectorPath, sel, "empty selector is invalid for deployment"))
		}
	}
	if isUpdate && !reflect.DeepEqual(sel, oldSel) {
		errs = append(errs, field.Invalid(selectorPath, sel, "field is immutable"))
	}
	if selector, err := metav1.LabelSelectorAsSelector(sel); err == nil && sel != nil && !selector.Empty() {
		if !selector.Matches(labels.Set(tmpl.Labels)) {
			errs = append(errs, field.Invalid(templatePath.Child("metadata", "labels"), tmpl.Labels, "`selector` does not match template `labels`"))
		}
	}
	errs = append(errs, validatePodTemplate(tmpl)...)
	return errs
}

func validatePodTemplate(tmpl *corev1.PodTemplateSpec) fieldErrs {
	errs := metav1validation.ValidateLabels(tmpl.Labels, templatePath.Child("metadata", "labels"))
	errs = append(errs, validatePodSpec(&tmpl.Spec, templatePath.Child("spec"))...)
	if tmpl.Spec.RestartPolicy != corev1.RestartPolicyAlways {
		errs = append(errs, field.NotSupported(templatePath.Child("spec", "restartPolicy"), tmpl.Spec.RestartPolicy, []string{string(corev1.RestartPolicyAlways)}))
	}
	return errs
}

func validateReplicaSet(obj, old Object) fieldErrs {
	rs := obj.(*appsv1.ReplicaSet)
	errs := validateMeta(obj, old)
	oldSel := oldSelector(old, func(o *appsv1.ReplicaSet) *metav1.LabelSelector { return o.Spec.Selector })
	errs = append(errs, validateWorkload(rs.Spec.Selector, &rs.Spec.Template, rs.Spec.Replicas, oldSel, old != nil)...)
	errs = append(errs, nonNegative(specPath.Child("minReadySeconds"), rs.Spec.MinReadySeconds)...)
	return errs
}

func validateReplicationController(obj, old Object) fieldErrs {
	rc := obj.(*corev1.ReplicationController)
	errs := validateMeta(obj, old)
	if len(rc.Spec.Selector) == 0 {
		errs = append(errs, field.Required(selectorPath, ""))
	} else {
		errs = append(errs, metav1validation.ValidateLabels(rc.Spec.Selector, selectorPath)...)
	}
	if rc.Spec.Replicas != nil && *rc.Spec.Replicas < 0 {
		errs = append(errs, field.Invalid(specPath.Child("replicas"), *rc.Spec.Replicas, "must be greater than or equal to 0"))
	}
	if rc.Spec.Template == nil {
		errs = append(errs, field.Required(templatePath, ""))
	} else {
		if len(rc.Spec.Selector) > 0 && !labels.SelectorFromSet(rc.Spec.Selector).Matches(labels.Set(rc.Spec.Template.Labels)) {
			errs = append(errs, field.Invalid(templatePath.Child("metadata", "labels"), rc.Spec.Template.Labels, "`selector` does not match template `labels`"))
		}
		errs = append(errs, validatePodTemplate(rc.Spec.Template)...)
	}
	return errs
}

func validateDeployment(obj, old Object) fieldErrs {
	d := obj.(*appsv1.Deployment)
	errs := validateMeta(obj, old)
	oldSel := oldSelector(old, func(o *appsv1.Deployment) *metav1.LabelSelector { return o.Spec.Selector })
	errs = append(errs, validateWorkload(d.Spec.Selector, &d.Spec.Template, d.Spec.Replicas, oldSel, old != nil)...)
	sp := specPath.Child("strategy")
	switch d.Spec.Strategy.Type {
	case appsv1.RecreateDeploymentStrategyType:
		if d.Spec.Strategy.RollingUpdate != nil {
			errs = append(errs, field.Forbidden(sp.Child("rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'"))
		}
	case appsv1.RollingUpdateDeploymentStrategyType:
		ru := d.Spec.Strategy.RollingUpdate
		replicas := int(deref(d.Spec.Replicas))
		_, err1 := intstr.GetScaledValueFromIntOrPercent(ru.MaxSurge, replicas, true)
		_, err2 := intstr.GetScaledValueFromIntOrPercent(ru.MaxUnavailable, replicas, false)
		if err1 != nil {
			errs = append(errs, field.Invalid(sp.Child("rollingUpdate", "maxSurge"), ru.MaxSurge.String(), err1.Error()))
		}
		if err2 != nil {
			errs = append(errs, field.Invalid(sp.Child("rollingUpdate", "maxUnavailable"), ru.MaxUnavailable.String(), err2.Error()))
		}
		if err1 == nil && err2 == nil && intOrPercentIsZero(ru.MaxSurge) && intOrPercentIsZero(ru.MaxUnavailable) {
			errs = append(errs, field.Invalid(sp.Child("rollingUpdate", "maxUnavailable"), ru.MaxUnavailable.String(), "may not be 0 when `maxSurge` is 0"))
		}
	default:
		errs = append(errs, field.NotSupported(sp.Child("type"), d.Spec.Strategy.Type, []string{"Recreate", "RollingUpdate"}))
	}
	if d.Spec.RevisionHistoryLimit != nil && *d.Spec.RevisionHistoryLimit < 0 {
		errs = append(errs, field.Invalid(specPath.Child("revisionHistoryLimit"), *d.Spec.RevisionHistoryLimit, "must be greater than or equal to 0"))
	}
	if pd := d.Spec.ProgressDeadlineSeconds; pd != nil && *pd <= d.Spec.MinReadySeconds {
		errs = append(errs, field.Invalid(specPath.Child("progressDeadlineSeconds"), *pd, "must be greater than minReadySeconds"))
	}
	return errs
}

func validateStatefulSet(obj, old Object) fieldErrs {
	s := obj.(*appsv1.StatefulSet)
	errs := validateMeta(obj, old)
	var oldSel *metav1.LabelSelector
	if old != nil {
		prev := old.(*appsv1.StatefulSet)
		oldSel = prev.Spec.Selector
		// Only these fields of a StatefulSet's spec may change.
		a, b := s.Spec.DeepCopy(), prev.Spec.DeepCopy()
		a.Replicas, a.Template, a.UpdateStrategy, a.MinReadySeconds, a.PersistentVolumeClaimRetentionPolicy, a.Ordinals = nil, corev1.PodTemplateSpec{}, appsv1.StatefulSetUpdateStrategy{}, 0, nil, nil
		b.Replicas, b.Template, b.UpdateStrategy, b.MinReadySeconds, b.PersistentVolumeClaimRetentionPolicy, b.Ordinals = nil, corev1.PodTemplateSpec{}, appsv1.StatefulSetUpdateStrategy{}, 0, nil, nil
		a.Selector, b.Selector = nil, nil
		if !reflect.DeepEqual(a, b) {
			errs = append(errs, field.Forbidden(specPath, "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"))
		}
	}
	errs = append(errs, validateWorkload(s.Spec.Selector, &s.Spec.Template, s.Spec.Replicas, oldSel, old != nil)...)
	switch s.Spec.PodManagementPolicy {
	case appsv1.OrderedReadyPodManagement, appsv1.ParallelPodManagement:
	default:
		errs = append(errs, field.NotSupported(specPath.Child("podManagementPolicy"), s.Spec.PodManagementPolicy, []string{"OrderedReady", "Parallel"}))
	}
	return errs
}

func validateDaemonSet(obj, old Object) fieldErrs {
	ds := obj.(*appsv1.DaemonSet)
	errs := validateMeta(obj, old)
	oldSel := oldSelector(old, func(o *appsv1.DaemonSet) *metav1.LabelSelector { return o.Spec.Selector })
	errs = append(errs, validateWorkload(ds.Spec.Selector, &ds.Spec.Template, nil, oldSel, old != nil)...)
	return errs
}

func validateService(obj, old Object) fieldErrs {
	errs := validateMeta(obj, old)
	for _, msg := range validation.IsDNS1035Label(obj.GetName()) {
		if obj.GetName() != "" {
			errs = append(errs, field.Invalid(metaPath.Child("name"), obj.GetName(), msg))
		}
	}
	return errs
}

func validateHPA(obj, old Object) fieldErrs {
	h := obj.(*autoscalingv2.HorizontalPodAutoscaler)
	errs := validateMeta(obj, old)
	ref := specPath.Child("scaleTargetRef")
	if h.Spec.ScaleTargetRef.Kind == "" {
		errs = append(errs, field.Required(ref.Child("kind"), ""))
	}
	if h.Spec.ScaleTargetRef.Name == "" {
		errs = append(errs, field.Required(ref.Child("name"), ""))
	}
	if min := h.Spec.MinReplicas; min != nil && *min < 1 {
		errs = append(errs, field.Invalid(specPath.Child("minReplicas"), *min, "must be greater than or equal to 1"))
	}
	if min := h.Spec.MinReplicas; min != nil && h.Spec.MaxReplicas < *min {
		errs = append(errs, field.Invalid(specPath.Child("maxReplicas"), h.Spec.MaxReplicas, "must be greater than or equal to `minReplicas`"))
	}
	return errs
}

func nonNegative(path *field.Path, v int32) fieldErrs {
	if v < 0 {
		return fieldErrs{field.Invalid(path, v, "must be greater than or equal to 0")}
	}
	return nil
}

func mapSelectorString(m map[string]string) string { return labels.SelectorFromSet(m).String() }

// intOrPercentIsZero: 0 or "0%".
func intOrPercentIsZero(v *intstr.IntOrString) bool {
	if v.Type == intstr.Int {
		return v.IntVal == 0
	}
	return strings.TrimSuffix(v.StrVal, "%") == "0"
}

// oldSelector is the selector of the object being replaced (nil on create),
// for the immutability check.
func oldSelector[T Object](old Object, sel func(T) *metav1.LabelSelector) *metav1.LabelSelector {
	if old == nil {
		return nil
	}
	return sel(old.(T))
}
