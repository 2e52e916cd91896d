package probe

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

// Paths a looping agent probes; every attempt is one Record.
const (
	LoopPod     = "pod"     // a new TCP connection and echo to a peer pod
	LoopService = "service" // a new TCP connection and echo through the ClusterIP Service
	LoopDNS     = "dns"     // a lookup of the Service name through the pod's resolver
	LoopConn    = "conn"    // one echo on a long-lived TCP connection to a peer pod
)

// Record is one attempt of a looping agent, written as one JSON line on stdout so that it can
// be collected through the API server's log endpoint without crossing the pod network.
type Record struct {
	// Time is when the attempt started, in Unix milliseconds.
	Time int64  `json:"t"`
	Path string `json:"p"`
	// To is the target: a pod IP, the Service address or the DNS name.
	To string `json:"to"`
	OK bool   `json:"ok"`
	// MS is how long the attempt took.
	MS float64 `json:"ms"`
	// Err is the failure, classified (timeout, refused, ...) with its detail.
	Err string `json:"e,omitempty"`
	// Conn numbers the long-lived connections of one (client, peer) pair from 1; a new number
	// means the previous connection broke and was replaced.
	Conn int `json:"c,omitempty"`
}

// RecordPrefix starts every record line, so that other log lines are ignored.
const RecordPrefix = "NCREC "

// LoopConfig says what a looping agent probes.
type LoopConfig struct {
	// Peers is a headless Service name whose addresses are the peer pods; it is resolved
	// again every PeerRefresh, and the last good answer kept when resolution fails.
	Peers       string
	PeerRefresh time.Duration
	// PeersFile, when set, replaces Peers: a file of peer pod IPs (one a line, read again every
	// PeerRefresh), so that finding peers does not depend on the DNS under test.
	PeersFile string
	// Service is host:port of a TCP echo Service; DNSName the name looked up.
	Service string
	DNSName string
	// Interval between attempts on each path; Timeout of one attempt.
	Interval, Timeout time.Duration
	// Self is the agent's own pod IP, left out of the peers.
	Self string
}

// Loop probes until ctx ends, writing a record for every attempt to out.
func Loop(ctx context.Context, cfg LoopConfig, out io.Writer) {
	w := &recordWriter{w: bufio.NewWriter(out)}
	var wg sync.WaitGroup
	run := func(attempt func(ctx context.Context) (Record, bool)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			loopPath(ctx, cfg, w, true, attempt)
		}()
	}
	if cfg.Service != "" {
		run(func(ctx context.Context) (Record, bool) {
			r := probeTCP(ctx, cfg.Service)
			return outcomeRecord(LoopService, cfg.Service, r), true
		})
	}
	if cfg.DNSName != "" {
		run(func(ctx context.Context) (Record, bool) {
			_, err := net.DefaultResolver.LookupHost(ctx, cfg.DNSName)
			r := Result{Outcome: OK}
			if err != nil {
				r = failure(err)
			}
			return outcomeRecord(LoopDNS, cfg.DNSName, r), true
		})
	}
	peers := map[string]context.CancelFunc{}
	refresh := func() {
		ips, err := cfg.lookupPeers(ctx)
		if err != nil {
			return // keep probing the peers known so far
		}
		want := map[string]bool{}
		for _, ip := range ips {
			if ip != cfg.Self {
				want[ip] = true
			}
		}
		for ip, stop := range peers {
			if !want[ip] {
				stop()
				delete(peers, ip)
			}
		}
		for _, ip := range sortedKeys(want) {
			if _, ok := peers[ip]; ok {
				continue
			}
			pctx, stop := context.WithCancel(ctx)
			peers[ip] = stop
			target := net.JoinHostPort(ip, fmt.Sprint(TCPEchoPort))
			wg.Add(2)
			go func() {
				defer wg.Done()
				loopPath(pctx, cfg, w, true, func(ctx context.Context) (Record, bool) {
					return outcomeRecord(LoopPod, ip, probeTCP(ctx, target)), true
				})
			}()
			go func() {
				defer wg.Done()
				keepConnection(pctx, cfg, w, ip, target)
			}()
		}
	}
	if cfg.Peers != "" || cfg.PeersFile != "" {
		refresh()
		t := time.NewTicker(cfg.PeerRefresh)
	loop:
		for {
			select {
			case <-ctx.Done():
				break loop
			case <-t.C:
				refresh()
			}
		}
		t.Stop()
	}
	wg.Wait()
	w.flush()
}

func (cfg LoopConfig) lookupPeers(ctx context.Context) ([]string, error) {
	if cfg.PeersFile != "" {
		b, err := os.ReadFile(cfg.PeersFile)
		if err != nil {
			return nil, err
		}
		var ips []string
		for _, f := range strings.Fields(string(b)) {
			if net.ParseIP(f) != nil {
				ips = append(ips, f)
			}
		}
		return ips, nil
	}
	rctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	return net.DefaultResolver.LookupHost(rctx, cfg.Peers)
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// loopPath runs attempt every cfg.Interval. With overlap, an attempt starts every interval even
// while earlier ones wait for their timeout, so that a path that does not answer loses one
// attempt per interval (not one per timeout); without it, the next attempt waits for the last.
func loopPath(ctx context.Context, cfg LoopConfig, w *recordWriter, overlap bool, attempt func(ctx context.Context) (Record, bool)) {
	t := time.NewTicker(cfg.Interval)
	defer t.Stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	one := func() {
		start := time.Now()
		actx, cancel := context.WithTimeout(ctx, cfg.Timeout)
		rec, keep := attempt(actx)
		cancel()
		if ctx.Err() != nil {
			return // the peer left or the agent stops: the attempt proves nothing
		}
		if keep {
			rec.Time = start.UnixMilli()
			rec.MS = float64(time.Since(start).Microseconds()) / 1000
			w.write(rec)
		}
	}
	for {
		if overlap {
			wg.Add(1)
			go func() {
				defer wg.Done()
				one()
			}()
		} else {
			one()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// keepConnection holds one TCP connection to a peer and echoes on it every interval; when it
// breaks, the failure is recorded and a new connection (the next Conn number) is opened.
func keepConnection(ctx context.Context, cfg LoopConfig, w *recordWriter, ip, target string) {
	var (
		conn net.Conn
		rd   *bufio.Reader
		n    int
	)
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	seq := 0
	loopPath(ctx, cfg, w, false, func(actx context.Context) (Record, bool) {
		if conn == nil {
			c, err := dial(actx, "tcp", target)
			if err != nil {
				// No connection to keep: the pod path records the outage; the connection
				// path only records connections that existed.
				return Record{}, false
			}
			conn, rd, n = c, bufio.NewReader(c), n+1
		}
		seq++
		msg := fmt.Sprintf("keep-%d", seq)
		conn.SetDeadline(time.Now().Add(cfg.Timeout))
		_, err := fmt.Fprintln(conn, msg)
		var line string
		if err == nil {
			line, err = rd.ReadString('\n')
		}
		if err == nil && strings.TrimSpace(line) != msg {
			err = fmt.Errorf("sent %q, got %q", msg, line)
		}
		rec := Record{Path: LoopConn, To: ip, OK: err == nil, Conn: n}
		if err != nil {
			rec.Err = string(classify(err)) + ": " + err.Error()
			conn.Close()
			conn = nil
		}
		return rec, true
	})
}

func outcomeRecord(path, to string, r Result) Record {
	rec := Record{Path: path, To: to, OK: r.Outcome == OK}
	if !rec.OK {
		rec.Err = string(r.Outcome)
		if r.Detail != "" {
			rec.Err += ": " + r.Detail
		}
	}
	return rec
}

// recordWriter serialises record lines from many goroutines and flushes every line, so that
// a terminated agent loses nothing already probed.
type recordWriter struct {
	mu sync.Mutex
	w  *bufio.Writer
}

func (r *recordWriter) write(rec Record) {
	b, _ := json.Marshal(rec)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.w.WriteString(RecordPrefix)
	r.w.Write(b)
	r.w.WriteByte('\n')
	r.w.Flush()
}

func (r *recordWriter) flush() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.w.Flush()
}

// ParseRecords reads the record lines out of an agent's log; other lines are skipped.
func ParseRecords(r io.Reader) ([]Record, error) {
	var out []Record
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		i := strings.Index(line, RecordPrefix)
		if i < 0 {
			continue
		}
		var rec Record
		if err := json.Unmarshal([]byte(line[i+len(RecordPrefix):]), &rec); err != nil {
			continue // a line cut by a terminated agent
		}
		out = append(out, rec)
	}
	return out, sc.Err()
}
