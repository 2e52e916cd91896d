package probe

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// Batch asks an agent to send many probes at once, all concurrently, and answer with their
// results in order: a NetworkPolicy truth table is hundreds of cells, and one question per cell
// through the API server would take minutes per table.
type Batch struct {
	// Via, when set, is the agent (host:port of its control port) that sends the probes: a host
	// agent relays the whole batch to the pod agent of its own node.
	Via      string    `json:"via,omitempty"`
	Requests []Request `json:"requests"`
}

// MaxBatch bounds a batch: each probe holds a socket and a goroutine while it waits.
const MaxBatch = 512

// maxBatchBody bounds what the agent reads of a batch (a request is well under 1 KiB).
const maxBatchBody = 1 << 20

// Budget is the longest an agent takes to answer the batch: its longest probe (they run
// concurrently), plus relayMargin when it is relayed.
func (b Batch) Budget() time.Duration {
	var longest time.Duration
	for _, r := range b.Requests {
		r.Via = ""
		longest = max(longest, r.Budget())
	}
	if b.Via != "" {
		longest += relayMargin
	}
	return longest
}

// ProbeBatch sends every probe of the batch concurrently (each request's own Via is ignored:
// the batch is relayed as a whole), or relays the batch when Via is set. The answer has one
// result per request, in order, whatever happens.
func (a *Agent) ProbeBatch(ctx context.Context, b Batch) []Result {
	ctx, cancel := context.WithTimeout(ctx, b.Budget())
	defer cancel()
	if b.Via != "" {
		return relayBatch(ctx, b)
	}
	out := make([]Result, len(b.Requests))
	var wg sync.WaitGroup
	for i, req := range b.Requests {
		req.Via = ""
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = a.Probe(ctx, req)
		}()
	}
	wg.Wait()
	return out
}

// relayBatch posts the batch, without Via, to the agent Via names; when that fails every
// request gets AgentUnreachable with the reason.
func relayBatch(ctx context.Context, b Batch) []Result {
	via := b.Via
	b.Via = ""
	fail := func(detail string) []Result {
		out := make([]Result, len(b.Requests))
		for i := range out {
			out[i] = Result{Outcome: AgentUnreachable, Detail: detail}
		}
		return out
	}
	body, _ := json.Marshal(b)
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+via+"/probes", bytes.NewReader(body))
	if err != nil {
		return fail(err.Error())
	}
	resp, err := relayClient.Do(hreq)
	if err != nil {
		return fail(fmt.Sprintf("relay to %s: %v", via, err))
	}
	defer resp.Body.Close()
	var res []Result
	if err := json.NewDecoder(io.LimitReader(resp.Body, 8<<20)).Decode(&res); err != nil {
		return fail(fmt.Sprintf("relay to %s: decode: %v", via, err))
	}
	if len(res) != len(b.Requests) {
		return fail(fmt.Sprintf("relay to %s: %d results for %d requests", via, len(res), len(b.Requests)))
	}
	return res
}
