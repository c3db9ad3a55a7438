// Package rollingupdate models kubectl's client-side rolling update of a
// ReplicationController (kubectl rolling-update, removed in kubectl 1.18;
// pkg/kubectl/rolling_updater.go and cmd/rollingupdate): a blocking client
// that replaces the old controller with a new one a pod at a time, keeping
// its bookkeeping in annotations so that running it again resumes an update
// that timed out or was interrupted.
//
// The algorithm, as kubectl runs it with its fixed maxSurge 1 and
// maxUnavailable 0:
//
//   - create the new controller at 0 replicas, annotated with the desired
//     count (kubectl.kubernetes.io/desired-replicas) and the old controller's
//     name and uid (update-source-id); an existing one with those
//     annotations is continued instead. The old controller gets
//     original-replicas;
//   - until the new one has the desired count and the old one 0: scale the
//     new one up as far as the surge allows (desired + surge − old − new), and
//     wait until its status has the replicas; wait the update period; scale
//     the old one down as far as availability allows (old + new − minAvailable
//     − the new one's unavailable pods), and wait likewise. Every scale goes
//     through the scale subresource (read, then write with its
//     resourceVersion; conflicts retried every poll interval) and is awaited
//     by polling every poll interval, for at most the timeout. A round that
//     changes nothing for the timeout ends the update with an error;
//   - clean up: drop the annotations of the new controller, wait until it
//     has observed its spec and has its replicas, and delete the old one —
//     or, for an update by image, delete it and rename the new one to its
//     name (delete the new one orphaning its pods, wait until it is gone,
//     create it again under the old name: it adopts the pods).
//
// With an image instead of a new controller, the new controller is the old
// one with that image, named <old>-<hash>, its selector and template labelled
// deployment=<hash>; the old one first gets deployment=<its hash>-orig on its
// template, its pods and its selector (pods of the old selector without the
// label are deleted), and next-controller-id naming the new one.
//
// Differences from kubectl: the --timeout flag is honoured (kubectl up to
// 1.17 passed its 5-minute default to the updater whatever the flag said);
// --rollback, --dry-run and --image-pull-policy are not modelled; hashes are
// of the object's JSON, not of kubectl's legacy encoding.
package rollingupdate

import (
	"crypto/md5"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/controller"
	"github.com/ctrlsim/ctrlsim/harness/kube"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// The annotations kubectl keeps its progress in.
const (
	SourceIDAnnotation         = "kubectl.kubernetes.io/update-source-id"
	DesiredReplicasAnnotation  = "kubectl.kubernetes.io/desired-replicas"
	OriginalReplicasAnnotation = "kubectl.kubernetes.io/original-replicas"
	NextControllerAnnotation   = "kubectl.kubernetes.io/next-controller-id"
)

// kubectl's defaults.
const (
	DefaultUpdatePeriod  = time.Minute
	DefaultPollInterval  = 3 * time.Second
	DefaultTimeout       = 5 * time.Minute
	DefaultDeploymentKey = "deployment"
)

// ErrWaitTimeout is what a poll that ran out of time returns (apimachinery's
// wait.ErrWaitTimeout).
var ErrWaitTimeout = errors.New("timed out waiting for the condition")

// Config is one kubectl rolling-update command.
type Config struct {
	// Namespace of both controllers (default "default").
	Namespace string
	// OldName is the controller to replace.
	OldName string
	// NewRC is the new controller (-f); nil for an update by Image.
	NewRC *corev1.ReplicationController
	// Image (--image) and Container (--container, needed when the pods have
	// more than one): the new controller is the old one with this image.
	Image, Container string
	// DeploymentKey is --deployment-label-key (default "deployment").
	DeploymentKey string
	// UpdatePeriod (--update-period, default 1m), PollInterval
	// (--poll-interval, default 3s) and Timeout (--timeout, default 5m).
	UpdatePeriod, PollInterval, Timeout time.Duration
	// MaxSurge and MaxUnavailable: kubectl always uses 1 and 0 (nil means
	// those).
	MaxSurge, MaxUnavailable *intstr.IntOrString
	// MinReadySeconds for counting a new pod available (kubectl: 0).
	MinReadySeconds int32
	// Out receives kubectl's progress messages (nil: discarded).
	Out io.Writer
}

func (cfg *Config) defaults() {
	if cfg.Namespace == "" {
		cfg.Namespace = metav1.NamespaceDefault
	}
	if cfg.DeploymentKey == "" {
		cfg.DeploymentKey = DefaultDeploymentKey
	}
	if cfg.UpdatePeriod <= 0 {
		cfg.UpdatePeriod = DefaultUpdatePeriod
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxSurge == nil {
		s := intstr.FromInt32(1)
		cfg.MaxSurge = &s
	}
	if cfg.MaxUnavailable == nil {
		u := intstr.FromInt32(0)
		cfg.MaxUnavailable = &u
	}
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
}

// updater is one run of the command, in the caller's coroutine.
type updater struct {
	ctx *controller.Context
	cl  *controller.Client
	cfg Config
}

// Run performs the rolling update and returns when it is done or has failed.
// It must run in a coroutine of ctx (the workload runner's).
func Run(ctx *controller.Context, cfg Config) error {
	cfg.defaults()
	if cfg.NewRC != nil && cfg.Image != "" {
		return errors.New("--filename and --image can not both be specified")
	}
	if cfg.NewRC == nil && cfg.Image == "" {
		return errors.New("Must specify --filename or --image for new controller")
	}
	u := &updater{ctx: ctx, cl: ctx.Client(), cfg: cfg}
	return u.command()
}

func (u *updater) printf(format string, args ...any) { fmt.Fprintf(u.cfg.Out, format, args...) }

// command is kubectl rolling-update's Run: find or make the new controller,
// check the pair, update, and read the result.
func (u *updater) command() error {
	cfg := u.cfg
	ns := cfg.Namespace
	byImage := cfg.Image != ""
	keepOldName := byImage // an update by image renames the new controller
	oldObj, err := u.cl.Get(apiserver.ReplicationControllers, ns, cfg.OldName)
	if err != nil {
		if !apierrors.IsNotFound(err) || !keepOldName {
			return err
		}
		// In the middle of a rename: finish it.
		newRc, err := u.findSourceController(cfg.OldName)
		if err != nil {
			return err
		}
		return u.rename(newRc, cfg.OldName)
	}
	oldRc := oldObj.(*corev1.ReplicationController)

	var newRc *corev1.ReplicationController
	replicasDefaulted := false
	if cfg.NewRC != nil {
		newRc = cfg.NewRC.DeepCopy()
		if newRc.Namespace == "" {
			newRc.Namespace = ns
		}
		replicasDefaulted = newRc.Spec.Replicas == nil
	}
	if byImage {
		newName := oldRc.Annotations[NextControllerAnnotation]
		if newRc, err = u.existingNext(newName); err != nil {
			return err
		}
		if newRc != nil {
			if img := newRc.Spec.Template.Spec.Containers[0].Image; img != cfg.Image {
				return fmt.Errorf("Found existing in-progress update to image (%s).\nEither continue in-progress update with --image=%s or rollback with --rollback", img, img)
			}
			u.printf("Found existing update in progress (%s), resuming.\n", newRc.Name)
		} else {
			if len(oldRc.Spec.Template.Spec.Containers) > 0 && oldRc.Spec.Template.Spec.Containers[0].Image == cfg.Image {
				return errors.New("--image-pull-policy (Always|Never|IfNotPresent) must be provided when --image is the same as existing container image")
			}
			if newRc, err = u.newFromCurrent(newName); err != nil {
				return err
			}
		}
		oldHash, err := hashObject(oldRc)
		if err != nil {
			return err
		}
		if oldRc, err = u.updateExisting(oldRc, newRc.Name, oldHash+"-orig"); err != nil {
			return err
		}
	}

	source := "the new controller"
	if cfg.NewRC != nil {
		source = "ReplicationController/" + cfg.NewRC.Name
	}
	if cfg.OldName == newRc.Name {
		return fmt.Errorf("%s cannot have the same name as the existing ReplicationController %s", source, cfg.OldName)
	}
	// The two must differ in the value of a selector key: every new pod has
	// it, no old pod does.
	differs := false
	for k, v := range oldRc.Spec.Selector { // any key will do: the order does not matter
		if nv, ok := newRc.Spec.Selector[k]; ok && nv != v {
			differs = true
		}
	}
	if !differs {
		return fmt.Errorf("%s must specify a matching key with non-equal value in Selector for %s", source, cfg.OldName)
	}
	if replicasDefaulted && oldRc.Spec.Replicas != nil {
		r := *oldRc.Spec.Replicas
		newRc.Spec.Replicas = &r
	}
	if err := u.update(oldRc, newRc, keepOldName); err != nil {
		return err
	}
	name := newRc.Name
	if keepOldName {
		name = cfg.OldName
	}
	_, err = u.cl.Get(apiserver.ReplicationControllers, ns, name)
	return err
}

// update is RollingUpdater.Update.
func (u *updater) update(oldRc, newRc *corev1.ReplicationController, rename bool) error {
	cfg := u.cfg
	sourceID := fmt.Sprintf("%s:%s", oldRc.Name, oldRc.UID)
	newRc, existed, err := u.getOrCreateTarget(newRc, sourceID)
	if err != nil {
		return err
	}
	if existed {
		u.printf("Continuing update with existing controller %s.\n", newRc.Name)
	} else {
		u.printf("Created %s\n", newRc.Name)
	}
	d, err := strconv.Atoi(newRc.Annotations[DesiredReplicasAnnotation])
	if err != nil {
		return fmt.Errorf("Unable to parse annotation for %s: %s=%s", newRc.Name, DesiredReplicasAnnotation, newRc.Annotations[DesiredReplicasAnnotation])
	}
	desired := int32(d)
	if _, ok := oldRc.Annotations[OriginalReplicasAnnotation]; !ok {
		obj, err := u.cl.Get(apiserver.ReplicationControllers, oldRc.Namespace, oldRc.Name)
		if err != nil {
			return err
		}
		existing := obj.(*corev1.ReplicationController)
		original := strconv.Itoa(int(replicas(existing)))
		if oldRc, err = u.updateRC(existing, func(rc *corev1.ReplicationController) {
			if rc.Annotations == nil {
				rc.Annotations = map[string]string{}
			}
			rc.Annotations[OriginalReplicasAnnotation] = original
		}); err != nil {
			return err
		}
	}
	surge, unavailable, err := kube.ResolveFenceposts(cfg.MaxSurge, cfg.MaxUnavailable, desired)
	if err != nil {
		return err
	}
	minAvailable := max(0, desired-unavailable)
	if desired == 0 {
		unavailable, minAvailable = replicas(oldRc), 0
	}
	u.printf("Scaling up %s from %d to %d, scaling down %s from %d to 0 (keep %d pods available, don't exceed %d pods)\n",
		newRc.Name, replicas(newRc), desired, oldRc.Name, replicas(oldRc), minAvailable, desired+surge)

	deadline := u.ctx.Now().Add(cfg.Timeout)
	for replicas(newRc) != desired || replicas(oldRc) != 0 {
		newBefore, oldBefore := replicas(newRc), replicas(oldRc)
		if newRc, err = u.scaleUp(newRc, oldRc, desired, surge); err != nil {
			return err
		}
		u.ctx.Sleep(cfg.UpdatePeriod)
		if oldRc, err = u.scaleDown(newRc, oldRc, desired, minAvailable); err != nil {
			return err
		}
		if replicas(newRc) != newBefore || replicas(oldRc) != oldBefore {
			deadline = u.ctx.Now().Add(cfg.Timeout)
		} else if u.ctx.Now().After(deadline) {
			return errors.New("timed out waiting for any update progress to be made")
		}
	}
	return u.cleanup(oldRc, newRc, rename)
}

// scaleUp adds as many new replicas as the surge allows (all the rest once
// the old controller is at 0).
func (u *updater) scaleUp(newRc, oldRc *corev1.ReplicationController, desired, surge int32) (*corev1.ReplicationController, error) {
	if replicas(newRc) == desired {
		return newRc, nil
	}
	inc := desired + surge - (replicas(oldRc) + replicas(newRc))
	if replicas(oldRc) == 0 {
		inc = desired - replicas(newRc)
	}
	if inc <= 0 {
		return newRc, nil
	}
	next := min(replicas(newRc)+inc, desired)
	u.printf("Scaling %s up to %d\n", newRc.Name, next)
	return u.scaleAndWait(newRc, next)
}

// scaleDown removes as many old replicas as availability allows, counting
// the new pods not yet available as missing; all of them once the new
// controller is complete and available.
func (u *updater) scaleDown(newRc, oldRc *corev1.ReplicationController, desired, minAvailable int32) (*corev1.ReplicationController, error) {
	if replicas(oldRc) == 0 {
		return oldRc, nil
	}
	newAvailable, err := u.available(oldRc, newRc)
	if err != nil {
		return nil, err
	}
	all := replicas(oldRc) + replicas(newRc)
	dec := all - minAvailable - (replicas(newRc) - newAvailable)
	if dec <= 0 {
		return oldRc, nil // wait for the new pods
	}
	next := max(replicas(oldRc)-dec, 0)
	if replicas(newRc) == desired && newAvailable == desired {
		next = 0
	}
	u.printf("Scaling %s down to %d\n", oldRc.Name, next)
	return u.scaleAndWait(oldRc, next)
}

// available counts the new controller's available pods: those its selector
// lists that are not being deleted and have been ready for MinReadySeconds.
// (kubectl lists the old controller's pods too and does not use them.)
func (u *updater) available(oldRc, newRc *corev1.ReplicationController) (int32, error) {
	var n int32
	now := u.ctx.Now()
	for _, rc := range []*corev1.ReplicationController{oldRc, newRc} {
		pods, _, err := u.cl.List(apiserver.Pods, rc.Namespace, labels.SelectorFromSet(rc.Spec.Selector))
		if err != nil {
			return 0, err
		}
		if rc != newRc {
			continue
		}
		for _, o := range pods {
			pod := o.(*corev1.Pod)
			if pod.DeletionTimestamp == nil && podAvailable(pod, u.cfg.MinReadySeconds, now) {
				n++
			}
		}
	}
	return n, nil
}

// podAvailable is IsPodAvailable as kubectl's rolling updater had it
// (k8s.io/kubectl/pkg/util/podutils, kubectl ≤ 1.17): available only
// strictly after ready + minReadySeconds. That is one instant later than
// the control plane's rule (kube.IsPodAvailable), on purpose: this models
// that kubectl.
func podAvailable(pod *corev1.Pod, minReadySeconds int32, now time.Time) bool {
	if !kube.IsPodReady(pod) {
		return false
	}
	since := kube.PodReadySince(pod)
	return minReadySeconds == 0 || (!since.IsZero() && since.Add(time.Duration(minReadySeconds)*time.Second).Before(now))
}

// scaleAndWait is kubectl's scaler: write spec.replicas through the scale
// subresource (read it, write it back with its resourceVersion; on a
// conflict, again every poll interval until the timeout), then poll until
// the scale's status has the replicas (or someone else changed the spec),
// and read the controller.
func (u *updater) scaleAndWait(rc *corev1.ReplicationController, to int32) (*corev1.ReplicationController, error) {
	cfg := u.cfg
	ns, name := rc.Namespace, rc.Name
	kind := apiserver.ReplicationControllers
	err := u.poll(cfg.PollInterval, cfg.Timeout, true, func() (bool, error) {
		scale, err := u.cl.GetScale(kind, ns, name)
		if err != nil {
			return false, err
		}
		scale.Spec.Replicas = to
		_, err = u.cl.UpdateScale(kind, ns, scale)
		if apierrors.IsConflict(err) {
			return false, nil
		}
		return err == nil, err
	})
	if err != nil {
		return nil, err
	}
	err = u.poll(cfg.PollInterval, cfg.Timeout, true, func() (bool, error) {
		scale, err := u.cl.GetScale(kind, ns, name)
		if err != nil {
			return false, err
		}
		if scale.Spec.Replicas != to {
			return true, nil // reset by someone else
		}
		return scale.Status.Replicas == to, nil
	})
	if errors.Is(err, ErrWaitTimeout) {
		return nil, fmt.Errorf("timed out waiting for %q to be synced", name)
	}
	if err != nil {
		return nil, err
	}
	obj, err := u.cl.Get(kind, ns, name)
	if err != nil {
		return nil, err
	}
	return obj.(*corev1.ReplicationController), nil
}

// getOrCreateTarget finds the new controller of an update in progress
// (checking that it belongs to this old controller), or creates it at 0
// replicas with the annotations.
func (u *updater) getOrCreateTarget(rc *corev1.ReplicationController, sourceID string) (*corev1.ReplicationController, bool, error) {
	var obj apiserver.Object
	var err error
	if rc.Name == "" && rc.GenerateName != "" {
		// Without a name there is no update in progress to find.
		err = apierrors.NewNotFound(corev1.Resource("replicationcontrollers"), rc.Name)
	} else {
		obj, err = u.cl.Get(apiserver.ReplicationControllers, rc.Namespace, rc.Name)
	}
	if err != nil {
		if !apierrors.IsNotFound(err) {
			return nil, false, err
		}
		if replicas(rc) <= 0 {
			return nil, false, fmt.Errorf("Invalid controller spec for %s; required: > 0 replicas, actual: %d", rc.Name, replicas(rc))
		}
		rc = rc.DeepCopy()
		if rc.Annotations == nil {
			rc.Annotations = map[string]string{}
		}
		rc.Annotations[DesiredReplicasAnnotation] = strconv.Itoa(int(replicas(rc)))
		rc.Annotations[SourceIDAnnotation] = sourceID
		zero := int32(0)
		rc.Spec.Replicas = &zero
		created, err := u.cl.Create(rc)
		if err != nil {
			return nil, false, err
		}
		return created.(*corev1.ReplicationController), false, nil
	}
	existing := obj.(*corev1.ReplicationController)
	_, ok := existing.Annotations[DesiredReplicasAnnotation]
	if existing.Annotations[SourceIDAnnotation] != sourceID || !ok {
		return nil, false, fmt.Errorf("Missing/unexpected annotations for controller %s, expected %s : %s", rc.Name, sourceID, formatMap(existing.Annotations))
	}
	return existing, true, nil
}

// cleanup drops the update's annotations from the new controller, waits
// until it has observed its spec and has its replicas, and deletes the old
// controller (renaming the new one to its name when asked).
func (u *updater) cleanup(oldRc, newRc *corev1.ReplicationController, rename bool) error {
	cfg := u.cfg
	obj, err := u.cl.Get(apiserver.ReplicationControllers, newRc.Namespace, newRc.Name)
	if err != nil {
		return err
	}
	if newRc, err = u.updateRC(obj.(*corev1.ReplicationController), func(rc *corev1.ReplicationController) {
		delete(rc.Annotations, SourceIDAnnotation)
		delete(rc.Annotations, DesiredReplicasAnnotation)
	}); err != nil {
		return err
	}
	generation := newRc.Generation
	if err := u.poll(cfg.PollInterval, cfg.Timeout, false, func() (bool, error) {
		obj, err := u.cl.Get(apiserver.ReplicationControllers, newRc.Namespace, newRc.Name)
		if err != nil {
			return false, err
		}
		rc := obj.(*corev1.ReplicationController)
		return rc.Status.ObservedGeneration >= generation && rc.Status.Replicas == replicas(rc), nil
	}); err != nil {
		return err
	}
	obj, err = u.cl.Get(apiserver.ReplicationControllers, newRc.Namespace, newRc.Name)
	if err != nil {
		return err
	}
	newRc = obj.(*corev1.ReplicationController)
	if !rename {
		u.printf("Update succeeded. Deleting %s\n", oldRc.Name)
		return u.cl.Delete(apiserver.ReplicationControllers, oldRc.Namespace, oldRc.Name, nil)
	}
	u.printf("Update succeeded. Deleting old controller: %s\n", oldRc.Name)
	if err := u.cl.Delete(apiserver.ReplicationControllers, oldRc.Namespace, oldRc.Name, nil); err != nil {
		return err
	}
	u.printf("Renaming %s to %s\n", newRc.Name, oldRc.Name)
	return u.rename(newRc, oldRc.Name)
}

// rename re-creates rc under name: delete it orphaning its pods, wait (every
// 5 s, at most a minute) until it is gone, create it under the new name.
func (u *updater) rename(rc *corev1.ReplicationController, name string) error {
	rc = rc.DeepCopy()
	oldName := rc.Name
	orphan := metav1.DeletePropagationOrphan
	err := u.cl.Delete(apiserver.ReplicationControllers, rc.Namespace, oldName, &metav1.DeleteOptions{PropagationPolicy: &orphan})
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	if err := u.poll(5*time.Second, time.Minute, false, func() (bool, error) {
		_, err := u.cl.Get(apiserver.ReplicationControllers, rc.Namespace, oldName)
		switch {
		case err == nil:
			return false, nil
		case apierrors.IsNotFound(err):
			return true, nil
		}
		return false, err
	}); err != nil {
		return err
	}
	rc.Name, rc.ResourceVersion = name, ""
	rc.UID, rc.CreationTimestamp, rc.Generation = "", metav1.Time{}, 0
	rc.DeletionTimestamp, rc.DeletionGracePeriodSeconds, rc.Finalizers = nil, nil, nil
	_, err = u.cl.Create(rc)
	return err
}

// findSourceController is the controller whose update-source-id names name.
func (u *updater) findSourceController(name string) (*corev1.ReplicationController, error) {
	objs, _, err := u.cl.List(apiserver.ReplicationControllers, u.cfg.Namespace, nil)
	if err != nil {
		return nil, err
	}
	for _, o := range objs { // in name order
		rc := o.(*corev1.ReplicationController)
		if strings.HasPrefix(rc.Annotations[SourceIDAnnotation], name) {
			return rc, nil
		}
	}
	return nil, fmt.Errorf("couldn't find a replication controller with source id == %s/%s", u.cfg.Namespace, name)
}

// existingNext reads the new controller an update by image left behind (nil
// if none).
func (u *updater) existingNext(name string) (*corev1.ReplicationController, error) {
	if name == "" {
		return nil, nil
	}
	obj, err := u.cl.Get(apiserver.ReplicationControllers, u.cfg.Namespace, name)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return obj.(*corev1.ReplicationController), nil
}

// newFromCurrent makes the new controller of an update by image: the old
// one with the image, named after its hash (unless named), selecting and
// labelling its pods deployment=<hash>.
func (u *updater) newFromCurrent(name string) (*corev1.ReplicationController, error) {
	cfg := u.cfg
	obj, err := u.cl.Get(apiserver.ReplicationControllers, cfg.Namespace, cfg.OldName)
	if err != nil {
		return nil, err
	}
	rc := obj.(*corev1.ReplicationController)
	if rc.Spec.Template == nil {
		return nil, fmt.Errorf("pod has no containers! (%s)", rc.Name)
	}
	ctrs := rc.Spec.Template.Spec.Containers
	idx := 0
	if cfg.Container != "" {
		idx = -1
		for i, c := range ctrs {
			if c.Name == cfg.Container {
				idx = i
				break
			}
		}
		if idx < 0 {
			return nil, fmt.Errorf("container %s not found in pod", cfg.Container)
		}
	}
	if len(ctrs) > 1 && cfg.Container == "" {
		return nil, errors.New("must specify container to update when updating a multi-container pod")
	}
	if len(ctrs) == 0 {
		return nil, fmt.Errorf("pod has no containers! (%s)", rc.Name)
	}
	ctrs[idx].Image = cfg.Image
	hash, err := hashObject(rc)
	if err != nil {
		return nil, err
	}
	if name == "" {
		name = rc.Name + "-" + hash
	}
	rc.Name = name
	if rc.Spec.Selector == nil {
		rc.Spec.Selector = map[string]string{}
	}
	if rc.Spec.Template.Labels == nil {
		rc.Spec.Template.Labels = map[string]string{}
	}
	rc.Spec.Selector[cfg.DeploymentKey] = hash
	rc.Spec.Template.Labels[cfg.DeploymentKey] = hash
	rc.ResourceVersion = ""
	return rc, nil
}

// updateExisting points the old controller at the next one and, if its
// selector lacks the deployment key, adds it (value) to its template, its
// pods and its selector, deleting the pods its old selector matched that did
// not get the label.
func (u *updater) updateExisting(oldRc *corev1.ReplicationController, next, value string) (*corev1.ReplicationController, error) {
	key := u.cfg.DeploymentKey
	setNext := func(rc *corev1.ReplicationController) {
		if rc.Annotations == nil {
			rc.Annotations = map[string]string{}
		}
		rc.Annotations[NextControllerAnnotation] = next
	}
	if _, ok := oldRc.Spec.Selector[key]; ok {
		return u.updateRC(oldRc, setNext)
	}
	setNext(oldRc)
	oldRc, err := u.updateRC(oldRc, func(rc *corev1.ReplicationController) {
		if rc.Spec.Template.Labels == nil {
			rc.Spec.Template.Labels = map[string]string{}
		}
		rc.Spec.Template.Labels[key] = value
	})
	if err != nil {
		return nil, err
	}
	ns := oldRc.Namespace
	pods, _, err := u.cl.List(apiserver.Pods, ns, labels.SelectorFromSet(oldRc.Spec.Selector))
	if err != nil {
		return nil, err
	}
	for _, o := range pods {
		if err := u.updatePod(o.(*corev1.Pod), func(p *corev1.Pod) {
			if p.Labels == nil {
				p.Labels = map[string]string{}
			}
			p.Labels[key] = value
		}); err != nil {
			return nil, err
		}
	}
	previous := labels.SelectorFromSet(oldRc.Spec.Selector)
	if oldRc, err = u.updateRC(oldRc, func(rc *corev1.ReplicationController) {
		if rc.Spec.Selector == nil {
			rc.Spec.Selector = map[string]string{}
		}
		rc.Spec.Selector[key] = value
	}); err != nil {
		return nil, err
	}
	// A pod the controller made from its old template meanwhile: delete it.
	pods, _, err = u.cl.List(apiserver.Pods, ns, previous)
	if err != nil {
		return nil, err
	}
	for _, o := range pods {
		if v, ok := o.GetLabels()[key]; !ok || v != value {
			if err := u.cl.Delete(apiserver.Pods, ns, o.GetName(), nil); err != nil {
				return nil, err
			}
		}
	}
	return oldRc, nil
}

// updateRC applies change and writes the controller, on a conflict reading
// it again and retrying (client-go's retry.DefaultBackoff: 4 tries, 10 ms
// growing fivefold, 10% jitter).
func (u *updater) updateRC(rc *corev1.ReplicationController, change func(*corev1.ReplicationController)) (*corev1.ReplicationController, error) {
	return updateObject(u, apiserver.ReplicationControllers, rc, change)
}

// updatePod is updateRC for a pod.
func (u *updater) updatePod(pod *corev1.Pod, change func(*corev1.Pod)) error {
	_, err := updateObject(u, apiserver.Pods, pod, change)
	return err
}

// updateObject applies change to a copy of obj, of kind, and writes it; on
// a failed write it starts again from the object read afresh (from obj if
// that read fails too), while the failure is a conflict.
func updateObject[T interface {
	apiserver.Object
	DeepCopy() T
}](u *updater, kind apiserver.Kind, obj T, change func(T)) (T, error) {
	orig := obj.DeepCopy()
	obj = obj.DeepCopy()
	err := u.ctx.RetryOnConflict(controller.DefaultBackoff, func() error {
		change(obj)
		written, err := u.cl.Update(obj)
		if err == nil {
			obj = written.(T)
			return nil
		}
		if fresh, getErr := u.cl.Get(kind, orig.GetNamespace(), orig.GetName()); getErr == nil {
			obj = fresh.(T)
		} else {
			obj = orig.DeepCopy()
		}
		return err
	})
	return obj, err
}

// poll checks cond every interval (first at once when immediate) until it
// holds, fails, or timeout has passed since the start (ErrWaitTimeout), on a
// fixed grid of ticks as apimachinery's wait.Poll: a check that takes longer
// than the interval is followed at once by the next.
func (u *updater) poll(interval, timeout time.Duration, immediate bool, cond func() (bool, error)) error {
	w := u.ctx.World()
	start := w.Elapsed()
	deadline := start + timeout
	if immediate {
		if ok, err := cond(); err != nil || ok {
			return err
		}
	}
	for k := time.Duration(1); ; k++ {
		now := w.Elapsed()
		if passed := (now - start) / interval; passed > k {
			k = passed // ticks missed while checking are dropped
		}
		tick := start + k*interval
		if tick >= deadline {
			return ErrWaitTimeout
		}
		if now < tick {
			u.ctx.Sleep(tick - now)
		}
		if ok, err := cond(); err != nil || ok {
			return err
		}
	}
}

func replicas(rc *corev1.ReplicationController) int32 {
	if rc.Spec.Replicas == nil {
		return 0
	}
	return *rc.Spec.Replicas
}

// hashObject is the MD5 of the object's JSON, in hex (kubectl hashes its
// encoding the same way).
func hashObject(obj any) (string, error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%x", md5.Sum(data)), nil
}

func formatMap(m map[string]string) string {
	keys := slices.Sorted(maps.Keys(m))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ":" + m[k]
	}
	return "map[" + strings.Join(parts, " ") + "]"
}
