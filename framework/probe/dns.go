package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// probeDNS resolves req.Name, req.Count times IntervalMS apart, each query bounded by
// TimeoutMS. Every query's time goes to RTTsMS (a lost one counts its time until it failed);
// a query is lost when it did not end OK (no answer in time, an error, or a wrong answer such
// as NXDOMAIN), and the probe is OK only when none was lost, else it has the first lost query's
// outcome. Addresses and Records are those of the first query that was answered.
//
// Queries other than QuerySystem go to Target (over TCP with DNSOverTCP) through Go's resolver,
// which still applies the agent's resolv.conf search path and ndots to names without a trailing
// dot, and answers names in the agent's /etc/hosts (e.g. its own pod IP for PTR) from that file.
func probeDNS(ctx context.Context, req Request) Result {
	r, err := dnsResolver(req)
	if err != nil {
		return Result{Outcome: Error, Detail: err.Error()}
	}
	n := req.repetitions()
	var (
		res      = Result{Outcome: OK}
		firstBad = -1
		bad      Result
		answered bool
	)
	for i := range n {
		if i > 0 {
			pause(ctx, req.interval())
		}
		start := time.Now()
		var one Result
		if err := ctx.Err(); err != nil {
			one = Result{Outcome: classify(err), Detail: fmt.Sprintf("not sent, the probe's time ran out: %v", err)}
		} else {
			qctx, cancel := context.WithTimeout(ctx, req.timeout())
			one = lookupOnce(qctx, r, dnsServer(req), req.QType, req.Name)
			cancel()
		}
		res.RTTsMS = append(res.RTTsMS, msSince(start))
		if one.Outcome != OK {
			res.Lost++
			if firstBad < 0 {
				firstBad, bad = i, one
			}
			continue
		}
		if !answered {
			answered = true
			res.Addresses, res.Records, res.Detail = one.Addresses, one.Records, one.Detail
		}
	}
	switch {
	case res.Lost == 0:
	case n == 1:
		res.Outcome, res.Detail = bad.Outcome, bad.Detail
	default:
		res.Outcome = bad.Outcome
		res.Detail = fmt.Sprintf("%d of %d queries lost; first: query %d: %s", res.Lost, n, firstBad+1, bad.Detail)
	}
	return res
}

// dnsResolver is the resolver req asks: the agent's own configuration for QuerySystem, else
// Go's resolver with every server it would ask replaced by Target.
func dnsResolver(req Request) (*net.Resolver, error) {
	switch req.QType {
	case QuerySystem:
		// PreferGo so that the agent resolves as a Go program in its pod does, with the
		// search path and ndots of its /etc/resolv.conf, whatever the build's cgo setting.
		return &net.Resolver{PreferGo: true}, nil
	case "", QueryA, QueryAAAA, QuerySRV, QueryPTR:
	default:
		return nil, fmt.Errorf("unknown dns query type %q", req.QType)
	}
	if req.Target == "" {
		return nil, fmt.Errorf("dns query %q without a server (Target)", req.QType)
	}
	network := "udp"
	if req.DNSOverTCP {
		network = "tcp"
	}
	server := req.Target
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, server)
	}}, nil
}

// dnsServer is the server req's queries go to, "" for the agent's own.
func dnsServer(req Request) string {
	if req.QType == QuerySystem {
		return ""
	}
	return req.Target
}

// lookupOnce sends one query of type qtype (Query*) for name to server ("" for the agent's own
// configuration), through r.
func lookupOnce(ctx context.Context, r *net.Resolver, server, qtype, name string) Result {
	switch qtype {
	case "", QuerySystem:
		addrs, err := r.LookupHost(ctx, name)
		if err != nil {
			return dnsFailure(err, server)
		}
		return Result{Outcome: OK, Addresses: addrs}
	case QueryA:
		return lookupFamily(ctx, r, server, name, "ip4", QueryA, "ip6", QueryAAAA)
	case QueryAAAA:
		return lookupFamily(ctx, r, server, name, "ip6", QueryAAAA, "ip4", QueryA)
	case QuerySRV:
		_, srvs, err := r.LookupSRV(ctx, "", "", name)
		if err != nil {
			return dnsFailure(err, server)
		}
		res := Result{Outcome: OK}
		for _, s := range srvs {
			res.Records = append(res.Records, net.JoinHostPort(strings.TrimSuffix(s.Target, "."), strconv.Itoa(int(s.Port))))
		}
		return res
	case QueryPTR:
		if net.ParseIP(name) == nil {
			return Result{Outcome: Error, Detail: fmt.Sprintf("PTR query for %q: the name must be an IP address", name)}
		}
		names, err := r.LookupAddr(ctx, name)
		if err != nil {
			return dnsFailure(err, server)
		}
		res := Result{Outcome: OK}
		for _, n := range names {
			res.Records = append(res.Records, strings.TrimSuffix(n, "."))
		}
		return res
	}
	return Result{Outcome: Error, Detail: fmt.Sprintf("unknown dns query type %q", qtype)}
}

// lookupFamily asks for the A (network "ip4") or AAAA ("ip6") records of name.
//
// Go's resolver reports a name without records of the type asked (NODATA) like a name that does
// not exist (NXDOMAIN): both are "no such host" with IsNotFound. The checks need to tell them
// apart ("the AAAA query for an IPv4-only Service answers no address" is not "the Service has no
// name"), so a not-found answer is followed by a query for the other family: when that one has
// addresses, the name exists and the answer is OK with no Addresses and a Detail saying so;
// otherwise (NXDOMAIN, a name with neither family, or a second query that failed) it is
// WrongAnswer.
func lookupFamily(ctx context.Context, r *net.Resolver, server, name, network, qtype, otherNetwork, otherType string) Result {
	ips, err := r.LookupIP(ctx, network, name)
	err = askedServer(err, server)
	if err == nil {
		res := Result{Outcome: OK}
		for _, ip := range ips {
			res.Addresses = append(res.Addresses, ip.String())
		}
		return res
	}
	if !isNotFound(err) {
		return dnsFailure(err, server)
	}
	others, oerr := r.LookupIP(ctx, otherNetwork, name)
	oerr = askedServer(oerr, server)
	switch {
	case oerr == nil && len(others) > 0:
		return Result{Outcome: OK, Detail: fmt.Sprintf("no %s record for %s (NODATA): it has %d %s", qtype, name, len(others), otherType)}
	case oerr == nil || isNotFound(oerr):
		return Result{Outcome: WrongAnswer, Detail: err.Error()}
	default:
		return Result{Outcome: WrongAnswer, Detail: fmt.Sprintf("%v (the %s query that would tell a name without %s records from no such host failed: %v)", err, otherType, qtype, oerr)}
	}
}

// dnsFailure is a lookup's error as a Result: a name that was not found is a wrong answer (the
// server answered), anything else is classified as a network error.
func dnsFailure(err error, server string) Result {
	err = askedServer(err, server)
	if isNotFound(err) {
		return Result{Outcome: WrongAnswer, Detail: err.Error()}
	}
	return failure(err)
}

func isNotFound(err error) bool {
	var de *net.DNSError
	return errors.As(err, &de) && de.IsNotFound
}

// askedServer puts the server a query really went to into a resolver error: the resolver names
// the nameserver of the agent's resolv.conf it meant to ask, but dnsResolver's Dial sends every
// query to Target instead.
func askedServer(err error, server string) error {
	var de *net.DNSError
	if server != "" && errors.As(err, &de) {
		de.Server = server
	}
	return err
}
