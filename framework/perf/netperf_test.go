package perf

import (
	"strings"
	"testing"
)

// Outputs recorded from netperf 2.7.0 (Debian bookworm non-free) on loopback, run with Args.
const (
	udpStreamOut = "1411.94,10^6bits/s,310754,252141,435055600,352997400,-1\n"
	tcpCRROut    = "10384.899,96.24,64,131,567,-1\n"
)

func TestArgs(t *testing.T) {
	got := strings.Join(Args(UDPStream, "10.244.1.5", 12865, 0, 5), " ")
	want := "-H 10.244.1.5 -p 12865 -l 5 -t UDP_STREAM -P 0 -- -o THROUGHPUT,THROUGHPUT_UNITS,LOCAL_SEND_CALLS,REMOTE_RECV_CALLS,LOCAL_BYTES_SENT,REMOTE_BYTES_RECVD,LOCAL_TRANSPORT_RETRANS -m 1400 -R 1"
	if got != want {
		t.Errorf("Args(UDP_STREAM):\n got %s\nwant %s", got, want)
	}
	if got := strings.Join(Args(TCPRR, "h", 1, 0, 3), " "); !strings.HasSuffix(got, "-o TRANSACTION_RATE,MEAN_LATENCY,P50_LATENCY,P90_LATENCY,P99_LATENCY,LOCAL_TRANSPORT_RETRANS -r 1,1") {
		t.Errorf("Args(TCP_RR): %s", got)
	}
	if got := strings.Join(Args(TCPCRR, "h", 1, 12866, 3), " "); !strings.HasSuffix(got, "-r 1,1 -P ,12866") {
		t.Errorf("Args(TCP_CRR) with a data port: %s", got)
	}
}

func TestParseStream(t *testing.T) {
	s, err := Parse(UDPStream, udpStreamOut)
	if err != nil {
		t.Fatal(err)
	}
	if s.ThroughputMbps != 1411.94 || s.SentBytes != 435055600 || s.ReceivedBytes != 352997400 || s.Retransmits != -1 {
		t.Errorf("got %+v", s)
	}
	if l := s.LossRatio(); l < 0.188 || l > 0.189 {
		t.Errorf("loss %.4f, want 0.1886", l)
	}
}

func TestParseRR(t *testing.T) {
	s, err := Parse(TCPCRR, "some banner line\n"+tcpCRROut)
	if err != nil {
		t.Fatal(err)
	}
	if s.TransactionsPerSec != 10384.899 || s.MeanUS != 96.24 || s.P50US != 64 || s.P90US != 131 || s.P99US != 567 {
		t.Errorf("got %+v", s)
	}
	if s.LossRatio() != 0 {
		t.Errorf("TCP loss %v", s.LossRatio())
	}
}

func TestParseRefuses(t *testing.T) {
	for name, tc := range map[string]struct {
		test Test
		out  string
	}{
		"empty":         {TCPRR, "  \n"},
		"error text":    {TCPRR, "establish control: are you sure there is a netserver listening on 10.0.0.1 at port 12865?\n"},
		"short":         {TCPRR, "10384.899,96.24\n"},
		"not a number":  {TCPRR, "10384.899,x,64,131,567,-1\n"},
		"other units":   {TCPStream, "1411.94,10^3bits/s,1,1,1,1,0\n"},
		"stream for rr": {TCPRR, udpStreamOut},
		"rr for stream": {TCPStream, tcpCRROut},
	} {
		if s, err := Parse(tc.test, tc.out); err == nil {
			t.Errorf("%s: parsed %+v, want an error", name, s)
		}
	}
}
