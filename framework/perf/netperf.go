// Package perf runs network benchmarks with netperf and turns their output into figures: one
// sample per run, then a mean with a 95% confidence interval over samples. It knows netperf's
// command line and output, nothing about clusters: the suite decides where a test runs.
package perf

import (
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
)

// Test is one netperf test.
type Test string

// The tests the perf suite runs (netperf's names).
const (
	TCPStream Test = "TCP_STREAM" // bulk TCP: throughput, retransmits
	UDPStream Test = "UDP_STREAM" // bulk UDP: throughput, loss
	TCPRR     Test = "TCP_RR"     // request/response on one connection: latency, transactions
	TCPCRR    Test = "TCP_CRR"    // a new connection per transaction: connection rate
	UDPRR     Test = "UDP_RR"     // request/response over UDP
)

// Tests are every test, in the order the suite runs them.
var Tests = []Test{TCPStream, UDPStream, TCPRR, TCPCRR, UDPRR}

// Stream says whether t measures throughput rather than transactions.
func (t Test) Stream() bool { return t == TCPStream || t == UDPStream }

// selectors are the omni output selectors asked of each kind of test, in the order Parse reads.
// A stream test's remote figure is what arrived, its local one what was sent: UDP loss is their
// difference.
var (
	streamSelectors = []string{"THROUGHPUT", "THROUGHPUT_UNITS", "LOCAL_SEND_CALLS", "REMOTE_RECV_CALLS",
		"LOCAL_BYTES_SENT", "REMOTE_BYTES_RECVD", "LOCAL_TRANSPORT_RETRANS"}
	rrSelectors = []string{"TRANSACTION_RATE", "MEAN_LATENCY", "P50_LATENCY", "P90_LATENCY", "P99_LATENCY",
		"LOCAL_TRANSPORT_RETRANS"}
)

// Args is netperf's command line for one sample of test t against a netserver at host:port for
// seconds. Request/response tests ask for 1-byte messages (latency, not bandwidth); UDP stream
// sends 1400-byte datagrams so that none is fragmented at a 1500 MTU minus an overlay's overhead.
// dataPort, when not 0, is the netserver's port for the test's data connection (netperf picks
// one otherwise): a Service must forward it, beside the control port, to the same backend.
func Args(t Test, host string, port, dataPort, seconds int) []string {
	args := []string{"-H", host, "-p", strconv.Itoa(port), "-l", strconv.Itoa(seconds), "-t", string(t), "-P", "0", "--"}
	sel := rrSelectors
	if t.Stream() {
		sel = streamSelectors
	}
	args = append(args, "-o", strings.Join(sel, ","))
	switch t {
	case UDPStream:
		// -R 1: netperf sets SO_DONTROUTE on UDP_STREAM's data socket unless told otherwise, so
		// that a flood cannot leave the local subnet; a pod path is routed by design (the send
		// fails with "Network is unreachable", IpOutNoRoutes).
		args = append(args, "-m", "1400", "-R", "1")
	case TCPRR, TCPCRR, UDPRR:
		args = append(args, "-r", "1,1")
	}
	if dataPort > 0 {
		// Remote port only: TCP_CRR opens a connection per transaction, and a fixed local port
		// would wait out TIME_WAIT.
		args = append(args, "-P", ","+strconv.Itoa(dataPort))
	}
	return args
}

// Sample is one netperf run's figures; fields a test does not produce stay zero.
type Sample struct {
	Test Test
	// ThroughputMbps is what arrived, in 10^6 bits per second (stream tests).
	ThroughputMbps float64
	// SentBytes and ReceivedBytes (stream tests) give UDP loss.
	SentBytes, ReceivedBytes int64
	// Retransmits are the sender's TCP retransmissions during the run (-1: netperf could not tell).
	Retransmits int64
	// TransactionsPerSec and latencies in microseconds (request/response tests).
	TransactionsPerSec          float64
	MeanUS, P50US, P90US, P99US float64
}

// LossRatio is the share of UDP bytes sent that did not arrive (0 for TCP).
func (s Sample) LossRatio() float64 {
	if s.Test != UDPStream || s.SentBytes <= 0 || s.ReceivedBytes >= s.SentBytes {
		return 0
	}
	return float64(s.SentBytes-s.ReceivedBytes) / float64(s.SentBytes)
}

// Parse reads the output of netperf run with Args: with -P 0 (no banner, no header) one CSV
// line of the selectors' values; its last line is read, whatever came before. It refuses output
// without that line, a value that is not a number, and throughput in units other than
// 10^6bits/s (Args does not ask for others). For UDP_STREAM netperf's THROUGHPUT is what the
// receiver got.
func Parse(t Test, out string) (Sample, error) {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if strings.TrimSpace(out) == "" {
		return Sample{}, fmt.Errorf("netperf %s: no output", t)
	}
	r := csv.NewReader(strings.NewReader(lines[len(lines)-1]))
	vals, err := r.Read()
	if err != nil {
		return Sample{}, fmt.Errorf("netperf %s: result line: %w", t, err)
	}
	sel := rrSelectors
	if t.Stream() {
		sel = streamSelectors
	}
	if len(vals) != len(sel) {
		return Sample{}, fmt.Errorf("netperf %s: %d values for %d selectors in %q", t, len(vals), len(sel), clip(out))
	}
	s := Sample{Test: t}
	num := func(i int) (float64, error) {
		v, err := strconv.ParseFloat(strings.TrimSpace(vals[i]), 64)
		if err != nil {
			return 0, fmt.Errorf("netperf %s: %s = %q: not a number", t, sel[i], vals[i])
		}
		return v, nil
	}
	fs := make([]float64, len(sel))
	for i := range sel {
		if sel[i] == "THROUGHPUT_UNITS" {
			if u := strings.TrimSpace(vals[i]); u != "10^6bits/s" {
				return Sample{}, fmt.Errorf("netperf %s: throughput in %q, want 10^6bits/s", t, u)
			}
			continue
		}
		if fs[i], err = num(i); err != nil {
			return Sample{}, err
		}
	}
	if t.Stream() {
		s.ThroughputMbps, s.SentBytes, s.ReceivedBytes, s.Retransmits = fs[0], int64(fs[4]), int64(fs[5]), int64(fs[6])
	} else {
		s.TransactionsPerSec, s.MeanUS, s.P50US, s.P90US, s.P99US, s.Retransmits = fs[0], fs[1], fs[2], fs[3], fs[4], int64(fs[5])
	}
	return s, nil
}

func clip(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}
