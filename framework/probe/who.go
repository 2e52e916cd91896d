package probe

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// whoReply is what a WhoPort answers: one JSON line over TCP, one datagram over UDP.
type whoReply struct {
	// Server is the answering agent, "node/pod"; Peer the address the request came from.
	Server string `json:"server"`
	Peer   string `json:"peer"`
	// Seq echoes the sequence of a UDP request (whoRequestPrefix + seq), so that a client can
	// tell the answer to its latest datagram from a late answer to an earlier one.
	Seq string `json:"seq,omitempty"`
}

// whoRequestPrefix starts a who-udp datagram; the rest of it, up to maxWhoSeq bytes, is the
// sequence the answer echoes.
const whoRequestPrefix = "netconform-who "

const (
	maxWhoSeq    = 64
	maxWhoAnswer = 4 << 10 // longer answers are not a WhoPort's
)

// serveWhoTCP answers every connection with one whoReply line and closes it. The client need
// not send anything.
func serveWhoTCP(l net.Listener, server string) error {
	return serveStream(l, func(c net.Conn) {
		b, err := json.Marshal(whoReply{Server: server, Peer: c.RemoteAddr().String()})
		if err != nil {
			return
		}
		if _, err := c.Write(append(b, '\n')); err != nil {
			return
		}
		// Half-close and drain what the client may have sent: closing with unread data would
		// reset the connection, and a reset can discard the answer before the client reads it.
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, _ = io.Copy(io.Discard, io.LimitReader(c, 64<<10))
	})
}

// serveWhoUDP answers every datagram with one whoReply datagram to its sender, echoing the
// request's sequence when it has one.
func serveWhoUDP(pc net.PacketConn, server string) error {
	buf := make([]byte, 2048)
	for {
		n, addr, err := pc.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("who udp: %w", err)
		}
		r := whoReply{Server: server, Peer: addr.String()}
		if seq, ok := strings.CutPrefix(string(buf[:n]), whoRequestPrefix); ok && len(seq) <= maxWhoSeq {
			r.Seq = seq
		}
		b, err := json.Marshal(r)
		if err != nil {
			continue
		}
		_, _ = pc.WriteTo(b, addr)
	}
}

// probeWhoTCP makes req.Count connections to a WhoPort, one after another and IntervalMS
// apart, each bounded by TimeoutMS, and reports who answered each and which address it saw.
func probeWhoTCP(ctx context.Context, req Request) Result {
	return repeatWho(ctx, req, func(ctx context.Context, _ int) WhoAnswer {
		return whoOverTCP(ctx, req.Target)
	})
}

func whoOverTCP(ctx context.Context, target string) WhoAnswer {
	c, err := dial(ctx, "tcp", target)
	if err != nil {
		return whoFailure(fmt.Errorf("connect: %w", err))
	}
	defer c.Close()
	line, err := bufio.NewReader(io.LimitReader(c, maxWhoAnswer)).ReadString('\n')
	// An answer cut short by the server's close is still read; an empty one is an error.
	if err != nil && (!errors.Is(err, io.EOF) || line == "") {
		return whoFailure(fmt.Errorf("read answer: %w", err))
	}
	var r whoReply
	if err := json.Unmarshal([]byte(line), &r); err != nil || r.Server == "" || r.Peer == "" {
		return WhoAnswer{Outcome: WrongAnswer, Detail: fmt.Sprintf("not a who answer: %q", truncateBytes([]byte(line)))}
	}
	return WhoAnswer{Outcome: OK, Server: r.Server, Peer: r.Peer}
}

// probeWhoUDP sends req.Count datagrams to a WhoPort from one connected socket, so that all
// of them belong to one flow (the same 5-tuple), IntervalMS apart; each waits up to TimeoutMS
// for its own answer, told apart by the sequence it carries.
func probeWhoUDP(ctx context.Context, req Request) Result {
	c, err := dial(ctx, "udp", req.Target)
	if err != nil {
		// Nothing could be sent: every repetition failed the same way.
		w := whoFailure(fmt.Errorf("open socket: %w", err))
		answers := make([]WhoAnswer, req.repetitions())
		for i := range answers {
			answers[i] = w
		}
		return whoResult(answers)
	}
	defer c.Close()
	// The nonce keeps answers meant for an earlier probe whose socket had the same port out.
	nonce := strconv.FormatInt(time.Now().UnixNano(), 36)
	buf := make([]byte, maxWhoAnswer)
	return repeatWho(ctx, req, func(ctx context.Context, i int) WhoAnswer {
		return whoOverUDP(ctx, c, fmt.Sprintf("%s.%d", nonce, i+1), buf)
	})
}

// whoOverUDP sends one datagram carrying seq on c and waits for the answer that echoes it,
// until ctx's deadline; answers to earlier datagrams are dropped.
func whoOverUDP(ctx context.Context, c net.Conn, seq string, buf []byte) WhoAnswer {
	if dl, ok := ctx.Deadline(); ok {
		if err := c.SetDeadline(dl); err != nil {
			return whoFailure(fmt.Errorf("set deadline: %w", err))
		}
	}
	if _, err := c.Write([]byte(whoRequestPrefix + seq)); err != nil {
		return whoFailure(fmt.Errorf("send datagram %s: %w", seq, err))
	}
	stale := 0
	for {
		n, err := c.Read(buf)
		if err != nil {
			w := whoFailure(fmt.Errorf("wait for the answer to datagram %s: %w", seq, err))
			if stale > 0 {
				w.Detail += fmt.Sprintf(" (ignored %d answers to earlier datagrams)", stale)
			}
			return w
		}
		var r whoReply
		if err := json.Unmarshal(buf[:n], &r); err != nil || r.Server == "" || r.Peer == "" || r.Seq == "" {
			return WhoAnswer{Outcome: WrongAnswer, Detail: fmt.Sprintf("sent datagram %s, got %q: not a who answer", seq, truncateBytes(buf[:n]))}
		}
		if r.Seq != seq {
			stale++ // a late answer to an earlier datagram: not this one's
			continue
		}
		w := WhoAnswer{Outcome: OK, Server: r.Server, Peer: r.Peer}
		if stale > 0 {
			w.Detail = fmt.Sprintf("ignored %d answers to earlier datagrams", stale)
		}
		return w
	}
}

// repeatWho runs one repetition req.repetitions() times, each with its own TimeoutMS within
// ctx (the whole probe's Budget), pausing IntervalMS between the end of one and the start of
// the next. A repetition that no longer fits the budget is not sent and counts as timed out.
func repeatWho(ctx context.Context, req Request, one func(ctx context.Context, i int) WhoAnswer) Result {
	start := time.Now()
	n := req.repetitions()
	answers := make([]WhoAnswer, 0, n)
	for i := range n {
		if i > 0 {
			pause(ctx, req.interval())
		}
		at := msSince(start)
		var w WhoAnswer
		if err := ctx.Err(); err != nil {
			w = whoFailure(fmt.Errorf("not sent, the probe's time ran out: %w", err))
		} else {
			rctx, cancel := context.WithTimeout(ctx, req.timeout())
			w = one(rctx, i)
			cancel()
		}
		w.AtMS = at
		answers = append(answers, w)
	}
	return whoResult(answers)
}

// whoResult is OK when every repetition was answered, else the outcome of the first that was
// not, with the count of those that were not.
func whoResult(answers []WhoAnswer) Result {
	res := Result{Outcome: OK, Who: answers}
	failed, first := 0, -1
	for i, w := range answers {
		if w.Outcome != OK {
			failed++
			if first < 0 {
				first = i
			}
		}
	}
	if failed > 0 {
		res.Outcome = answers[first].Outcome
		res.Detail = fmt.Sprintf("%d of %d repetitions unanswered; first: repetition %d: %s", failed, len(answers), first+1, answers[first].Detail)
	}
	return res
}

func whoFailure(err error) WhoAnswer { return WhoAnswer{Outcome: classify(err), Detail: err.Error()} }

// pause waits d or until ctx ends.
func pause(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func msSince(t time.Time) float64 { return float64(time.Since(t).Microseconds()) / 1000 }

// truncateBytes keeps evidence of an unexpected answer short.
func truncateBytes(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "..."
	}
	return string(b)
}
