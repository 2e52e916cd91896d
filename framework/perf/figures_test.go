package perf

import (
	"strings"
	"testing"
)

func TestSummarizeStream(t *testing.T) {
	f, err := Summarize(UDPStream, []Sample{
		{Test: UDPStream, ThroughputMbps: 900, SentBytes: 1000, ReceivedBytes: 900, Retransmits: -1},
		{Test: UDPStream, ThroughputMbps: 1000, SentBytes: 1000, ReceivedBytes: 1000, Retransmits: -1},
		{Test: UDPStream, ThroughputMbps: 1100, SentBytes: 1000, ReceivedBytes: 800, Retransmits: -1},
	})
	if err != nil {
		t.Fatal(err)
	}
	if f.ThroughputMbps.Mean != 1000 || f.ThroughputMbps.N != 3 || f.ThroughputMbps.CI95 < 248 || f.ThroughputMbps.CI95 > 249 {
		t.Errorf("throughput %+v, want 1000 ± 248.4 (n=3)", f.ThroughputMbps)
	}
	if f.LossRatio < 0.0999 || f.LossRatio > 0.1001 {
		t.Errorf("loss %v, want 0.1", f.LossRatio)
	}
	if f.Retransmits != -1 {
		t.Errorf("retransmits %d, want -1 (unknown)", f.Retransmits)
	}
	if s := f.String(); !strings.Contains(s, "Mbit/s") || !strings.Contains(s, "loss 10.00%") {
		t.Errorf("String: %s", s)
	}
}

func TestSummarizeRR(t *testing.T) {
	f, err := Summarize(TCPRR, []Sample{
		{Test: TCPRR, TransactionsPerSec: 10000, P50US: 60, P90US: 100, P99US: 500, Retransmits: 0},
		{Test: TCPRR, TransactionsPerSec: 12000, P50US: 80, P90US: 120, P99US: 700, Retransmits: 3},
	})
	if err != nil {
		t.Fatal(err)
	}
	if h, unit := f.Headline(); h.Mean != 11000 || unit != "transactions/s" {
		t.Errorf("headline %v %s", h, unit)
	}
	if f.P50US != 70 || f.P99US != 600 || f.Retransmits != 3 {
		t.Errorf("got %+v", f)
	}
	if _, err := Summarize(TCPRR, []Sample{{Test: TCPCRR}}); err == nil {
		t.Error("a sample of another test was summarized")
	}
}
