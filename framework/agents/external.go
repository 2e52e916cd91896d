package agents

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/netconform/netconform/framework/ipfamily"
	"github.com/netconform/netconform/framework/probe"
)

// The agent outside the cluster: a probe agent in a docker container on the kind cluster's
// network (StartExternal), or one the user runs and names by its control address
// (ConnectExternal). The harness asks it directly over HTTP (Agent.Control), not through the API
// server: it has no pod.

// ExternalLabel marks the containers StartExternal runs (its value is the container's name), so
// that deleting a kind cluster finds one a killed run left on the cluster's network
// (framework/platform/kind holds the same label).
const ExternalLabel = "netconform.io/external"

// Bounds of the external agent's docker calls and waits.
const (
	// dockerCallTimeout bounds one short docker call (rm, inspect).
	dockerCallTimeout = 30 * time.Second
	// dockerRunTimeout bounds docker run, which may pull the image first.
	dockerRunTimeout = 2 * time.Minute
	// externalReadyTimeout bounds the wait for a started agent's /healthz.
	externalReadyTimeout = 30 * time.Second
	// externalConnectTimeout bounds the wait for a user's agent's /healthz.
	externalConnectTimeout = 15 * time.Second
	// ExternalStopTimeout bounds Stop.
	ExternalStopTimeout = dockerCallTimeout
)

// directClient asks agents over HTTP without the API server. It ignores proxy settings: an
// agent on a docker network is reached from this machine directly, never through a proxy. Each
// request's context bounds it.
var directClient = &http.Client{Transport: &http.Transport{Proxy: nil, DialContext: (&net.Dialer{Timeout: 10 * time.Second}).DialContext}}

// ExternalContainer is a probe agent StartExternal runs in a docker container.
type ExternalContainer struct {
	Name, Network, Image string
	// IP is the container's IPv4 address on Network (docker gives every network IPv4), which
	// the harness asks it at; IPv6 its IPv6 address there, "" when the network has none.
	IP, IPv6 string
}

// StartExternal runs the probe image as an agent in a container named name on docker network
// network (a container of that name left from before is removed first), and waits, within a
// bound, until its /healthz answers from here. On error nothing is left running.
func StartExternal(ctx context.Context, network, image, name string) (*ExternalContainer, error) {
	e := &ExternalContainer{Name: name, Network: network, Image: image}
	if err := e.Stop(ctx); err != nil {
		return nil, fmt.Errorf("external agent: remove container %s left from before: %w", name, err)
	}
	// Whatever fails after docker run takes the container away again, even when ctx ended.
	fail := func(err error) (*ExternalContainer, error) {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ExternalStopTimeout)
		defer cancel()
		if serr := e.Stop(sctx); serr != nil {
			err = errors.Join(err, serr)
		}
		return nil, fmt.Errorf("external agent: %w", err)
	}
	if _, err := docker(ctx, dockerRunTimeout, externalRunArgs(network, image, name)...); err != nil {
		return fail(err)
	}
	out, err := docker(ctx, dockerCallTimeout, externalIPArgs(network, name)...)
	if err != nil {
		return fail(err)
	}
	e.IP, e.IPv6 = externalAddrs(out)
	if e.IP == "" {
		return fail(fmt.Errorf("container %s has no address on docker network %s (docker said %q)", name, network, strings.TrimSpace(out)))
	}
	if err := waitHealthy(ctx, e.control(), externalReadyTimeout); err != nil {
		return fail(fmt.Errorf("container %s on docker network %s: %w", name, network, err))
	}
	return e, nil
}

// externalRunArgs is docker's command line that starts the agent (the probe image's entrypoint
// is the agent): outside the cluster it is a host, so it says HOST_NETWORK=true.
func externalRunArgs(network, image, name string) []string {
	return []string{"run", "-d", "--name", name, "--network", network, "--label", ExternalLabel + "=" + name,
		"-e", "NODE_NAME=external", "-e", "POD_NAME=" + name, "-e", "HOST_NETWORK=true",
		"--cap-add", "NET_RAW", image}
}

// externalIPArgs is docker's command line that prints the container's addresses on network:
// IPv4, then IPv6 (empty on a network without IPv6).
func externalIPArgs(network, name string) []string {
	n := fmt.Sprintf(`(index .NetworkSettings.Networks %q)`, network)
	return []string{"inspect", "-f", fmt.Sprintf(`{{%s.IPAddress}} {{%s.GlobalIPv6Address}}`, n, n), name}
}

// externalAddrs reads externalIPArgs' answer: the IPv4 and the IPv6 address, each "" when
// docker gave none that parses.
func externalAddrs(out string) (ipv4, ipv6 string) {
	for _, f := range strings.Fields(out) {
		switch fam, ok := ipfamily.OfAddr(f); {
		case ok && fam == ipfamily.IPv4 && ipv4 == "":
			ipv4 = f
		case ok && fam == ipfamily.IPv6 && ipv6 == "":
			ipv6 = f
		}
	}
	return ipv4, ipv6
}

func (e *ExternalContainer) control() string {
	return net.JoinHostPort(e.IP, strconv.Itoa(probe.ControlPort))
}

// Agent is the container as an agent, asked directly at its control address.
func (e *ExternalContainer) Agent() Agent {
	ips := []string{e.IP}
	if e.IPv6 != "" {
		ips = append(ips, e.IPv6)
	}
	return Agent{Role: External, Node: "external", Pod: e.Name, Image: e.Image, IP: e.IP, IPs: ips, HostNetwork: true, Ready: true, Control: e.control()}
}

// Stop removes the container (bounded by ExternalStopTimeout); one that is gone already is
// fine.
func (e *ExternalContainer) Stop(ctx context.Context) error {
	_, err := docker(ctx, ExternalStopTimeout, "rm", "-f", e.Name)
	if err != nil && !noSuchContainer(err) {
		return fmt.Errorf("remove external agent: %w", err)
	}
	return nil
}

// noSuchContainer tells docker's answer for a container that does not exist (older dockers
// answer an error to rm -f of one).
func noSuchContainer(err error) bool {
	s := strings.ToLower(err.Error())
	return strings.Contains(s, "no such container")
}

// ConnectExternal takes the probe agent whose control address is addr (HOST:PORT; --external-
// target) as the external agent, once its /healthz answers within a bound. On error the Agent
// is not Ready and Why says why.
func ConnectExternal(ctx context.Context, addr string) (Agent, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return Agent{}, fmt.Errorf("external agent %q: want HOST:PORT: %w", addr, err)
	}
	a := Agent{Role: External, Node: "external", IP: host, HostNetwork: true, Control: addr}
	if err := waitHealthy(ctx, addr, externalConnectTimeout); err != nil {
		a.Why = err.Error()
		return a, fmt.Errorf("external agent at %s: %w", addr, err)
	}
	a.Ready = true
	return a, nil
}

// KindNetwork is the docker network a kind cluster's nodes are on (the one its control-plane
// container is attached to, other than docker's default bridge): where an external agent can
// reach the nodes.
func KindNetwork(ctx context.Context, cluster string) (string, error) {
	out, err := docker(ctx, dockerCallTimeout, "inspect", "-f", `{{range $k,$v := .NetworkSettings.Networks}}{{$k}} {{end}}`, cluster+"-control-plane")
	if err != nil {
		return "", fmt.Errorf("docker network of kind cluster %s: %w", cluster, err)
	}
	n := firstNetwork(out)
	if n == "" {
		return "", fmt.Errorf("docker network of kind cluster %s: its node %s-control-plane is on no network but docker's default bridge (%q)", cluster, cluster, strings.TrimSpace(out))
	}
	return n, nil
}

// firstNetwork picks the first network name other than "bridge" from docker's list.
func firstNetwork(out string) string {
	for _, n := range strings.Fields(out) {
		if n != "bridge" {
			return n
		}
	}
	return ""
}

// docker runs one docker command within timeout (and ctx); its error carries docker's stderr.
func docker(ctx context.Context, timeout time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		what := strings.Join(args, " ")
		if len(args) > 2 {
			what = strings.Join(args[:2], " ") + " ..."
		}
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", err, ctx.Err())
		}
		return stdout.String(), fmt.Errorf("docker %s: %w: %s", what, err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// waitHealthy polls http://addr/healthz until it answers 200 OK, within bound.
func waitHealthy(ctx context.Context, addr string, bound time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	last := errors.New("not asked yet")
	for {
		rctx, rcancel := context.WithTimeout(ctx, 2*time.Second)
		last = healthz(rctx, addr)
		rcancel()
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no answer from http://%s/healthz within %s: %w", addr, bound, last)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func healthz(ctx context.Context, addr string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := directClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("answered %s", resp.Status)
	}
	return nil
}

// probeDirect posts req to the agent's control address: no API server, no relay. The request
// gets the probe's budget plus an API call's room for the HTTP exchange.
func (f *Fleet) probeDirect(ctx context.Context, from Agent, req probe.Request) probe.Result {
	req.Via = ""
	body, err := json.Marshal(req)
	if err != nil {
		return probe.Result{Outcome: probe.Error, Detail: err.Error()}
	}
	cctx, cancel := context.WithTimeout(ctx, req.Budget()+f.timeouts().APICall)
	defer cancel()
	hreq, err := http.NewRequestWithContext(cctx, http.MethodPost, "http://"+from.Control+"/probe", bytes.NewReader(body))
	if err != nil {
		return probe.Result{Outcome: probe.Error, Detail: err.Error()}
	}
	hreq.Header.Set("Content-Type", "application/json")
	raw, err := doDirect(hreq)
	if err != nil {
		return probe.Result{Outcome: probe.AgentUnreachable, Detail: fmt.Sprintf("ask %s at %s: %v", describeRole(from.Role), from.Control, err), Attempts: 1}
	}
	var res probe.Result
	if err := json.Unmarshal(raw, &res); err != nil {
		return probe.Result{Outcome: probe.AgentUnreachable, Detail: fmt.Sprintf("%s at %s answered %q: %v", describeRole(from.Role), from.Control, truncate(raw), err), Attempts: 1}
	}
	res.Attempts = 1
	return res
}

// infoDirect asks the agent at its control address for its links and routes.
func (f *Fleet) infoDirect(ctx context.Context, a Agent, pathMTUTo string) (probe.Info, error) {
	cctx, cancel := context.WithTimeout(ctx, f.timeouts().APICall)
	defer cancel()
	u := "http://" + a.Control + "/info"
	if pathMTUTo != "" {
		u += "?" + url.Values{"mtuTo": {pathMTUTo}}.Encode()
	}
	hreq, err := http.NewRequestWithContext(cctx, http.MethodGet, u, nil)
	if err != nil {
		return probe.Info{}, err
	}
	raw, err := doDirect(hreq)
	if err != nil {
		return probe.Info{}, fmt.Errorf("info from %s at %s: %w", describeRole(a.Role), a.Control, err)
	}
	var info probe.Info
	if err := json.Unmarshal(raw, &info); err != nil {
		return probe.Info{}, fmt.Errorf("info from %s at %s: %w", describeRole(a.Role), a.Control, err)
	}
	return info, nil
}

// doDirect sends one request to an agent and returns the body of its 200 answer.
func doDirect(req *http.Request) ([]byte, error) {
	resp, err := directClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("answered %s: %s", resp.Status, truncate(bytes.TrimSpace(raw)))
	}
	return raw, nil
}
