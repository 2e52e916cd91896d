package probe

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestLoopPeersFromFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "peers")
	if err := os.WriteFile(f, []byte("10.244.1.5\nnot-an-ip\n10.244.2.7\n\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := LoopConfig{PeersFile: f}.lookupPeers(context.Background())
	if err != nil || strings.Join(got, ",") != "10.244.1.5,10.244.2.7" {
		t.Errorf("peers = %v, %v", got, err)
	}
	if _, err := (LoopConfig{PeersFile: f + ".missing"}).lookupPeers(context.Background()); err == nil {
		t.Error("a missing peers file must be an error (the last peers are kept)")
	}
}

func TestParseRecordsSkipsOtherLines(t *testing.T) {
	log := "netconform-probe: serving\n" + RecordPrefix + `{"t":5,"p":"pod","to":"10.0.0.1","ok":false,"e":"timeout"}` + "\n" + RecordPrefix + `{"t":6,"p":` + "\n"
	recs, err := ParseRecords(strings.NewReader(log))
	if err != nil || len(recs) != 1 || recs[0].Path != LoopPod || recs[0].OK || recs[0].Err != "timeout" {
		t.Errorf("records %+v, %v", recs, err)
	}
}

// A Service that stops answering shows up as failed records, one per interval. The test waits
// for records rather than for fixed times (a loaded CI machine runs fewer attempts per second).
func TestLoopRecordsEveryAttempt(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go serveStream(l, echoConn)
	ctx, cancel := context.WithCancel(context.Background())
	out := &lockedWriter{w: &bytes.Buffer{}}
	done := make(chan struct{})
	go func() {
		Loop(ctx, LoopConfig{Service: l.Addr().String(), Interval: 20 * time.Millisecond, Timeout: 200 * time.Millisecond}, out)
		close(done)
	}()
	defer func() { cancel(); <-done }()
	const want = 5
	waitFor := func(what string, enough func(ok, failed int) bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			ok, failed := countRecords(t, out)
			if enough(ok, failed) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("after 10 s: %d ok and %d failed records, want %s", ok, failed, what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor("5 ok", func(ok, _ int) bool { return ok >= want })
	l.Close()
	waitFor("5 failed after the listener closed", func(_, failed int) bool { return failed >= want })
}

// countRecords counts the ok and failed Service records written so far, checking each.
func countRecords(t *testing.T, out *lockedWriter) (ok, failed int) {
	t.Helper()
	out.mu.Lock()
	recs, err := ParseRecords(bytes.NewReader(out.w.Bytes()))
	out.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.Path != LoopService {
			t.Errorf("record on path %q", r.Path)
		}
		if r.OK {
			ok++
			continue
		}
		failed++
		// A dial that was queued when the listener closed is reset rather than refused.
		if !strings.HasPrefix(r.Err, "refused") && !strings.HasPrefix(r.Err, "reset") {
			t.Errorf("failure %q, want refused or reset", r.Err)
		}
	}
	return ok, failed
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
