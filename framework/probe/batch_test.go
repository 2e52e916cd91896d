package probe

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// TestBatchLoopback serves extra echo ports and answers a batch, directly and relayed through
// itself: results come back in order, each with its own outcome.
func TestBatchLoopback(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a := &Agent{ID: Identity{Node: "n1", Pod: "p1"}, EchoPorts: []int{29180, 29181}}
	errc := make(chan error, 1)
	go func() { errc <- a.Serve(ctx) }()
	waitListening(t, "127.0.0.1:29080")
	reqs := []Request{
		{Protocol: TCP, Target: "127.0.0.1:29180", TimeoutMS: 1000},
		{Protocol: UDP, Target: "127.0.0.1:29181", TimeoutMS: 1000},
		{Protocol: TCP, Target: "127.0.0.1:1", TimeoutMS: 1000},
		{Protocol: UDP, Target: "127.0.0.1:29180", TimeoutMS: 1000},
		{Protocol: TCP, Target: "127.0.0.1:29181", TimeoutMS: 1000},
	}
	want := []Outcome{OK, OK, Refused, OK, OK}
	for _, via := range []string{"", "127.0.0.1:29080"} {
		body, _ := json.Marshal(Batch{Via: via, Requests: reqs})
		start := time.Now()
		resp, err := http.Post("http://127.0.0.1:29080/probes", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatalf("via %q: %v", via, err)
		}
		var got []Result
		err = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("via %q: decode: %v", via, err)
		}
		if len(got) != len(want) {
			t.Fatalf("via %q: %d results, want %d", via, len(got), len(want))
		}
		for i := range want {
			if got[i].Outcome != want[i] {
				t.Errorf("via %q: request %d (%+v): %s (%s), want %s", via, i, reqs[i], got[i].Outcome, got[i].Detail, want[i])
			}
		}
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("via %q: batch took %s: its probes did not run concurrently", via, took)
		}
	}
	// A relay to an agent that is not there answers every request, naming why.
	got := a.ProbeBatch(ctx, Batch{Via: "127.0.0.1:1", Requests: reqs[:2]})
	if len(got) != 2 || got[0].Outcome != AgentUnreachable || got[1].Outcome != AgentUnreachable {
		t.Errorf("relay to nothing: %+v, want 2 x %s", got, AgentUnreachable)
	}
	// Too large a batch is refused as a whole.
	body, _ := json.Marshal(Batch{Requests: make([]Request, MaxBatch+1)})
	resp, err := http.Post("http://127.0.0.1:29080/probes", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("batch of %d: status %d, want 400", MaxBatch+1, resp.StatusCode)
	}
	cancel()
	if err := <-errc; err != nil {
		t.Errorf("serve: %v", err)
	}
}
