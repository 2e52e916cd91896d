package timeouts

import (
	"reflect"
	"testing"
	"time"
)

func TestScaleStretchesEveryBoundButThePollIntervals(t *testing.T) {
	d := Default()
	s, err := d.Scale(2.5)
	if err != nil {
		t.Fatal(err)
	}
	dv, sv := reflect.ValueOf(d), reflect.ValueOf(s)
	for i := range dv.NumField() {
		name := dv.Type().Field(i).Name
		a, ok := dv.Field(i).Interface().(time.Duration)
		if !ok {
			continue
		}
		b := sv.Field(i).Interface().(time.Duration)
		if a == 0 {
			t.Errorf("%s has no default", name)
		}
		want := time.Duration(float64(a) * 2.5)
		if name == "PollInterval" || name == "ShortPoll" {
			want = a
		}
		if b != want {
			t.Errorf("%s: %s scaled to %s, want %s", name, a, b, want)
		}
	}
	if s.Factor != 2.5 || s.Scaled(time.Minute) != 150*time.Second {
		t.Errorf("factor %g, Scaled(1m) = %s", s.Factor, s.Scaled(time.Minute))
	}
	for _, bad := range []float64{0, -1, 1000} {
		if _, err := d.Scale(bad); err == nil {
			t.Errorf("scale %g accepted", bad)
		}
	}
	if (Timeouts{}).Scaled(time.Second) != time.Second {
		t.Error("a zero Timeouts must leave spec bounds as declared")
	}
}
