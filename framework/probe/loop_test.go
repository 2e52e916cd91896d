package probe

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
