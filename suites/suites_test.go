package suites

import (
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/netconform/netconform/framework/results"
)

func TestCheckFromReport(t *testing.T) {
	obs := []results.Observation{{From: "a", To: "b", Observed: "timeout", Attempts: 2}, {From: "b", To: "a", Observed: "ok", OK: true, Attempts: 1}}
	r := ginkgo.SpecReport{
		ContainerHierarchyTexts: []string{"mtu"},
		LeafNodeText:            "a full-size packet with DF crosses between nodes",
		State:                   types.SpecStateFailed,
		Failure:                 types.Failure{Message: "1 of 2 failed"},
		RunTime:                 1500 * time.Millisecond,
		ReportEntries: types.ReportEntries{
			{Name: entryObservations, Value: types.WrapEntryValue(obs)},
			{Name: entryMeasurement, Value: types.WrapEntryValue(results.Measurement{Name: "x", Value: 3})},
		},
	}
	c := CheckFromReport(r)
	if c.ID != "mtu/a-full-size-packet-with-df-crosses-between-nodes" || c.Suite != "mtu" || c.Status != results.Failed || c.Reason != "1 of 2 failed" {
		t.Errorf("check: %+v", c)
	}
	if len(c.Observations) != 2 || len(c.Measurements) != 1 || c.Attempts != 2 || c.DurationMS != 1500 {
		t.Errorf("observations %d, measurements %d, attempts %d, duration %d", len(c.Observations), len(c.Measurements), c.Attempts, c.DurationMS)
	}
	r.State, r.Failure = types.SpecStateSkipped, types.Failure{Message: "environment: no ipip"}
	if c := CheckFromReport(r); c.Status != results.Skipped || c.Reason != "environment: no ipip" {
		t.Errorf("skip: %+v", c)
	}
	r.State = types.SpecStateTimedout
	if c := CheckFromReport(r); c.Status != results.Failed {
		t.Errorf("a timed-out spec is a failure: %+v", c)
	}
}
