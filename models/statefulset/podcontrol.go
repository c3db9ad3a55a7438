package statefulset

import (
	"errors"
	"fmt"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/controller"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// What the controller does to one pod and its claims (upstream's
// StatefulPodControl). Claims are read from the informer cache.

// createPod creates the pod's missing claims, then the pod, then sets the
// claims' owner references for the retention policy.
func (c *Controller) createPod(set *appsv1.StatefulSet, pod *corev1.Pod, ordinal int) error {
	if err := c.createClaims(set, ordinal); err != nil {
		return err
	}
	obj := pod.DeepCopy()
	if c.opts.NoIdentityGuard && c.pods.Get(pod.Namespace, pod.Name) != nil {
		// The name is still held by the pod this one replaces: a surrogate.
		obj.GenerateName, obj.Name = pod.Name+"-", ""
	}
	created, err := c.ctx.Client().Create(obj)
	if err == nil {
		c.wrote(set, apiserver.Pods, created)
	}
	if apierrors.IsAlreadyExists(err) {
		return err
	}
	if err := c.updateClaimsForPolicy(set, pod, ordinal); err != nil {
		return err
	}
	return err
}

// createClaims creates the ordinal's claims that are not in the cache; a
// claim being deleted is an error (the pod must wait for its new claim).
func (c *Controller) createClaims(set *appsv1.StatefulSet, ordinal int) error {
	var errs []error
	for _, claim := range claimsFor(set, ordinal) {
		cached := c.claims.Get(claim.Namespace, claim.Name)
		if cached == nil {
			created, err := c.ctx.Client().Create(claim)
			if err != nil {
				errs = append(errs, fmt.Errorf("failed to create PVC %s: %w", claim.Name, err))
				continue
			}
			c.wrote(set, apiserver.PersistentVolumeClaims, created)
			continue
		}
		if cached.GetDeletionTimestamp() != nil {
			errs = append(errs, fmt.Errorf("pvc %s is being deleted", claim.Name))
		}
	}
	return errors.Join(errs...)
}

// createMissingClaims is for a pending pod whose claims went missing.
func (c *Controller) createMissingClaims(set *appsv1.StatefulSet, pod *corev1.Pod, ordinal int) error {
	if err := c.createClaims(set, ordinal); err != nil {
		return err
	}
	return c.updateClaimsForPolicy(set, pod, ordinal)
}

// updatePod gives the pod its identity, storage and claim ownership, retrying
// conflicts with the cached copy (DefaultBackoff).
func (c *Controller) updatePod(set *appsv1.StatefulSet, pod *corev1.Pod, ordinal int) error {
	return c.ctx.RetryOnConflict(controller.DefaultBackoff, func() error {
		consistent := true
		if !c.identityMatches(set, pod) {
			c.setIdentity(set, pod, ordinal)
			consistent = false
		}
		if !c.storageMatches(set, pod) {
			setStorage(set, pod, ordinal)
			consistent = false
			if err := c.createClaims(set, ordinal); err != nil {
				return err
			}
		}
		if match, err := c.claimsMatchPolicy(set, pod, ordinal); err != nil {
			return err
		} else if !match {
			if err := c.updateClaimsForPolicy(set, pod, ordinal); err != nil {
				return err
			}
			consistent = false
		}
		if consistent {
			return nil
		}
		updated, err := c.ctx.Client().Update(pod)
		if err == nil {
			c.wrote(set, apiserver.Pods, updated)
			return nil
		}
		if cached := c.pods.Get(set.Namespace, pod.Name); cached != nil {
			*pod = *cached.DeepCopyObject().(*corev1.Pod)
		}
		return err
	})
}

// deletePod deletes a pod; NotFound is success.
func (c *Controller) deletePod(set *appsv1.StatefulSet, pod *corev1.Pod) error {
	err := c.ctx.Client().Delete(apiserver.Pods, pod.Namespace, pod.Name, nil)
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	return nil
}

// --- the claim retention policy ---

func retentionPolicy(set *appsv1.StatefulSet) appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy {
	if p := set.Spec.PersistentVolumeClaimRetentionPolicy; p != nil {
		return *p
	}
	return appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
		WhenDeleted: appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
		WhenScaled:  appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
	}
}

const (
	retain = appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	del    = appsv1.DeletePersistentVolumeClaimRetentionPolicyType
)

// refersTo: ref names obj (group/version, kind and name; not the uid).
func refersTo(ref *metav1.OwnerReference, obj metav1.Object, apiVersion, kind string) bool {
	return ref.APIVersion == apiVersion && ref.Kind == kind && ref.Name == obj.GetName()
}

func refersToSet(ref *metav1.OwnerReference, set *appsv1.StatefulSet) bool {
	return refersTo(ref, set, "apps/v1", "StatefulSet")
}

func refersToPod(ref *metav1.OwnerReference, pod *corev1.Pod) bool {
	return refersTo(ref, pod, "v1", "Pod")
}

func hasOwnerRef(claim *corev1.PersistentVolumeClaim, owner metav1.Object) bool {
	for _, r := range claim.OwnerReferences {
		if r.UID == owner.GetUID() {
			return true
		}
	}
	return false
}

// staleRef: the first reference naming obj has another uid (a previous
// object of that name).
func staleRef(claim *corev1.PersistentVolumeClaim, names func(*metav1.OwnerReference) bool, uid string) bool {
	for i := range claim.OwnerReferences {
		if r := &claim.OwnerReferences[i]; names(r) {
			return string(r.UID) != uid
		}
	}
	return false
}

func staleSetRef(claim *corev1.PersistentVolumeClaim, set *appsv1.StatefulSet) bool {
	return staleRef(claim, func(r *metav1.OwnerReference) bool { return refersToSet(r, set) }, string(set.UID))
}

func stalePodRef(claim *corev1.PersistentVolumeClaim, pod *corev1.Pod) bool {
	return staleRef(claim, func(r *metav1.OwnerReference) bool { return refersToPod(r, pod) }, string(pod.UID))
}

// unexpectedController: under a Delete policy, the claim has a controller
// other than the set and the pod (or a reference to either with the wrong
// uid).
func unexpectedController(claim *corev1.PersistentVolumeClaim, set *appsv1.StatefulSet, pod *corev1.Pod) bool {
	p := retentionPolicy(set)
	if p.WhenScaled == retain && p.WhenDeleted == retain {
		return false
	}
	for i := range claim.OwnerReferences {
		r := &claim.OwnerReferences[i]
		switch {
		case refersToSet(r, set):
			if r.UID != set.UID {
				return true
			}
		case refersToPod(r, pod):
			if r.UID != pod.UID {
				return true
			}
		case r.Controller != nil && *r.Controller:
			return true
		}
	}
	return false
}

func nonControllerOwner(claim *corev1.PersistentVolumeClaim, set *appsv1.StatefulSet, pod *corev1.Pod) bool {
	for _, r := range claim.OwnerReferences {
		if (r.UID == set.UID || r.UID == pod.UID) && (r.Controller == nil || !*r.Controller) {
			return true
		}
	}
	return false
}

// claimOwnerUpToDate says whether the claim's owner references agree with
// the policy: Retain/Retain none; Delete on set deletion a set reference;
// Delete on scale-down a pod reference once the pod is scaled down (and no
// set reference then, under Delete/Delete). Claims with stale references or
// another controller are left alone.
func (c *Controller) claimOwnerUpToDate(claim *corev1.PersistentVolumeClaim, set *appsv1.StatefulSet, pod *corev1.Pod, ordinal int) bool {
	if staleSetRef(claim, set) || stalePodRef(claim, pod) {
		return true
	}
	if unexpectedController(claim, set, pod) {
		return !hasOwnerRef(claim, set) && !hasOwnerRef(claim, pod)
	}
	if nonControllerOwner(claim, set, pod) {
		return false
	}
	p := retentionPolicy(set)
	scaledDown := !inRange(set, ordinal)
	switch {
	case p.WhenScaled == retain && p.WhenDeleted == del:
		return hasOwnerRef(claim, set) && !hasOwnerRef(claim, pod)
	case p.WhenScaled == del && p.WhenDeleted == retain:
		return !hasOwnerRef(claim, set) && scaledDown == hasOwnerRef(claim, pod)
	case p.WhenScaled == del && p.WhenDeleted == del:
		return scaledDown != hasOwnerRef(claim, set) && scaledDown == hasOwnerRef(claim, pod)
	default: // Retain/Retain, and unknown policies as Retain
		return !hasOwnerRef(claim, set) && !hasOwnerRef(claim, pod)
	}
}

// setClaimOwners rewrites the claim's references to set and pod for the
// policy.
func setClaimOwners(claim *corev1.PersistentVolumeClaim, set *appsv1.StatefulSet, pod *corev1.Pod, ordinal int) {
	unexpected := unexpectedController(claim, set, pod)
	var refs []metav1.OwnerReference
	for i := range claim.OwnerReferences {
		if r := &claim.OwnerReferences[i]; !refersToSet(r, set) && !refersToPod(r, pod) {
			refs = append(refs, *r)
		}
	}
	if !unexpected {
		p := retentionPolicy(set)
		scaledDown := !inRange(set, ordinal)
		add := func(owner metav1.Object, apiVersion, kind string) {
			for _, r := range refs {
				if r.UID == owner.GetUID() {
					return
				}
			}
			refs = append(refs, *metav1.NewControllerRef(owner, schema.FromAPIVersionAndKind(apiVersion, kind)))
		}
		switch {
		case p.WhenScaled == retain && p.WhenDeleted == del:
			add(set, "apps/v1", "StatefulSet")
		case p.WhenScaled == del && p.WhenDeleted == retain:
			if scaledDown {
				add(pod, "v1", "Pod")
			}
		case p.WhenScaled == del && p.WhenDeleted == del:
			if scaledDown {
				add(pod, "v1", "Pod")
			} else {
				add(set, "apps/v1", "StatefulSet")
			}
		}
	}
	claim.OwnerReferences = refs
}

// claimsMatchPolicy: every cached claim of the pod has the references its
// policy wants (a missing claim is picked up later).
func (c *Controller) claimsMatchPolicy(set *appsv1.StatefulSet, pod *corev1.Pod, ordinal int) (bool, error) {
	for _, t := range set.Spec.VolumeClaimTemplates {
		obj := c.claims.Get(set.Namespace, claimName(set, t.Name, ordinal))
		if obj == nil {
			continue
		}
		if !c.claimOwnerUpToDate(obj.(*corev1.PersistentVolumeClaim), set, pod, ordinal) {
			return false, nil
		}
	}
	return true, nil
}

// updateClaimsForPolicy updates the references of the pod's cached claims
// that the policy wants otherwise.
func (c *Controller) updateClaimsForPolicy(set *appsv1.StatefulSet, pod *corev1.Pod, ordinal int) error {
	for _, t := range set.Spec.VolumeClaimTemplates {
		name := claimName(set, t.Name, ordinal)
		obj := c.claims.Get(set.Namespace, name)
		if obj == nil {
			continue
		}
		claim := obj.(*corev1.PersistentVolumeClaim)
		if c.claimOwnerUpToDate(claim, set, pod, ordinal) {
			continue
		}
		claim = claim.DeepCopy()
		setClaimOwners(claim, set, pod, ordinal)
		updated, err := c.ctx.Client().Update(claim)
		if err != nil {
			return fmt.Errorf("could not update claim %s for delete policy ownerRefs: %w", name, err)
		}
		c.wrote(set, apiserver.PersistentVolumeClaims, updated)
	}
	return nil
}

// claimIsStale: under WhenScaled Delete, a claim of the ordinal still refers
// to an earlier pod of that name (about to be garbage collected): the new pod
// must wait.
func (c *Controller) claimIsStale(set *appsv1.StatefulSet, pod *corev1.Pod, ordinal int) bool {
	if retentionPolicy(set).WhenScaled == retain {
		return false
	}
	for _, claim := range claimsFor(set, ordinal) {
		if obj := c.claims.Get(claim.Namespace, claim.Name); obj != nil && stalePodRef(obj.(*corev1.PersistentVolumeClaim), pod) {
			return true
		}
	}
	return false
}
