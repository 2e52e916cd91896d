package kube

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// DeleteNamespace waits until the namespace is gone, looking every ShortPoll (not every
// PollInterval), also for a namespace already being deleted (the API answers Conflict), and
// ends at its bound with an error when the namespace stays.
func TestDeleteNamespaceWaitsUntilGone(t *testing.T) {
	for _, already := range []bool{false, true} {
		cs := fake.NewSimpleClientset()
		gets := 0
		cs.PrependReactor("delete", "namespaces", func(k8stesting.Action) (bool, runtime.Object, error) {
			if already {
				return true, nil, apierrors.NewConflict(schema.GroupResource{Resource: "namespaces"}, "nc", nil)
			}
			return true, nil, nil
		})
		cs.PrependReactor("get", "namespaces", func(k8stesting.Action) (bool, runtime.Object, error) {
			if gets++; gets <= 3 {
				now := metav1.Now()
				return true, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "nc", DeletionTimestamp: &now}}, nil
			}
			return true, nil, apierrors.NewNotFound(schema.GroupResource{Resource: "namespaces"}, "nc")
		})
		tm := DefaultTimeouts()
		tm.PollInterval, tm.ShortPoll = time.Second, 10*time.Millisecond
		c := &Client{Interface: cs, Timeouts: tm}
		start := time.Now()
		if err := c.DeleteNamespace(context.Background(), "nc"); err != nil {
			t.Fatalf("already deleting %v: %v", already, err)
		}
		if took := time.Since(start); took > 500*time.Millisecond || gets != 4 {
			t.Errorf("already deleting %v: %d looks in %s; want 4 within 500ms (every ShortPoll)", already, gets, took)
		}
	}

	cs := fake.NewSimpleClientset(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "nc"}})
	cs.PrependReactor("delete", "namespaces", func(k8stesting.Action) (bool, runtime.Object, error) { return true, nil, nil })
	tm := DefaultTimeouts()
	tm.ShortPoll, tm.NamespaceGone = 10*time.Millisecond, 100*time.Millisecond
	err := (&Client{Interface: cs, Timeouts: tm}).DeleteNamespace(context.Background(), "nc")
	if err == nil {
		t.Error("a namespace that stays: no error")
	}
}
